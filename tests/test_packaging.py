"""pyproject.toml promises only the Python versions the code really runs on."""

import ast
import sys
import tomllib
from pathlib import Path

import promptgraph

ROOT = Path(promptgraph.__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def oldest_python() -> tuple[int, int]:
    requires = PYPROJECT["project"]["requires-python"]
    assert requires.startswith(">="), requires
    major, minor = requires.removeprefix(">=").split(".")[:2]
    return int(major), int(minor)


def test_ruff_checks_for_the_oldest_python_pyproject_allows():
    major, minor = oldest_python()
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py{major}{minor}"


def test_the_tests_run_on_a_python_pyproject_allows():
    assert sys.version_info[:2] >= oldest_python()


def test_code_using_datetime_utc_is_not_promised_to_python_older_than_3_11():
    # datetime.UTC is new in 3.11: on 3.10 every HTTP response's rate-limit headers raised AttributeError.
    users = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "promptgraph").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "UTC" and getattr(node.value, "id", "") == "datetime"
    ]
    assert not users or oldest_python() >= (3, 11), f"{users} use datetime.UTC (3.11+)"
