"""pyproject.toml promises only the Python versions the code really runs on, and CI tests both ends."""

import ast
import re
import sys
from pathlib import Path

import promptgraph

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI (the dev extra installs it)
    import tomli as tomllib

ROOT = Path(promptgraph.__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CLASSIFIER = re.compile(r"Programming Language :: Python :: (\d+)\.(\d+)")


def oldest_python() -> tuple[int, int]:
    requires = PYPROJECT["project"]["requires-python"]
    assert requires.startswith(">="), requires
    major, minor = requires.removeprefix(">=").split(".")[:2]
    return int(major), int(minor)


def classified_pythons() -> list[tuple[int, int]]:
    """The versions the classifiers name: .ci/run tests the first and the last."""
    found = [CLASSIFIER.fullmatch(text) for text in PYPROJECT["project"]["classifiers"]]
    return sorted((int(match[1]), int(match[2])) for match in found if match)


def test_ruff_checks_for_the_oldest_python_pyproject_allows():
    major, minor = oldest_python()
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py{major}{minor}"


def test_the_oldest_python_classified_is_the_oldest_requires_python_allows():
    assert classified_pythons()[0] == oldest_python()


def test_the_classifiers_name_every_minor_version_between_the_oldest_and_the_newest():
    versions = classified_pythons()
    (major, first), last = versions[0], versions[-1]
    assert versions == [(major, minor) for minor in range(first, last[1] + 1)]


def test_the_tests_run_on_a_python_pyproject_allows():
    assert sys.version_info[:2] >= oldest_python()


def test_code_using_datetime_utc_is_not_promised_to_python_older_than_3_11():
    # datetime.UTC is new in 3.11: on 3.10 every HTTP response's rate-limit headers raised AttributeError.
    users = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "promptgraph").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(node, ast.Attribute) and node.attr == "UTC" and getattr(node.value, "id", "") == "datetime")
        or (isinstance(node, ast.ImportFrom) and node.module == "datetime" and "UTC" in [a.name for a in node.names])
    ]
    assert not users or oldest_python() >= (3, 11), f"{users} use datetime.UTC (3.11+)"


def test_every_prompt_template_ships_as_package_data():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["promptgraph"]
    package = ROOT / "promptgraph"
    templates = sorted((package / "prompts" / "templates").glob("*.j2"))
    assert templates and all(any(path.relative_to(package).match(p) for p in patterns) for path in templates)
