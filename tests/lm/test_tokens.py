import ast
from pathlib import Path

import promptgraph
from promptgraph.lm.tokens import CHARS_PER_TOKEN, count_tokens

PACKAGE = Path(promptgraph.__file__).parent


def test_count_tokens_rounds_a_partial_token_up():
    assert count_tokens("") == 0
    assert count_tokens("a" * CHARS_PER_TOKEN) == 1
    assert count_tokens("a" * (CHARS_PER_TOKEN + 1)) == 2


def test_chars_per_token_is_defined_in_one_module_only():
    defining = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "CHARS_PER_TOKEN" for t in node.targets)
    )
    assert defining == ["lm/tokens.py"]


def test_nothing_outside_the_test_doubles_takes_token_counts_from_the_scripted_lm():
    users = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        and node.module == "promptgraph.lm.scripted"
        and {alias.name for alias in node.names} & {"count_tokens", "CHARS_PER_TOKEN"}
    )
    assert users == []
