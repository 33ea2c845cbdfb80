"""Every prompt for the strong model lives in promptgraph/prompts/: no module elsewhere writes one."""

import re
from pathlib import Path

import promptgraph

PACKAGE = Path(promptgraph.__file__).parent
# What a strong-model template holds: Jinja statements or expressions, the markup the readers
# read, the sections every optimizer prompt has, and the closing line of their system prompts.
TEMPLATE_SIGNS = re.compile(
    r"\{%|\{\{ \w|<(?:value|rejected|tried|example|upstream|step|class)[ >]|## What to write|Reply with one JSON object"
)


def test_no_module_outside_the_prompts_package_holds_a_prompt_template():
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "prompts" not in path.relative_to(PACKAGE).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if TEMPLATE_SIGNS.search(line)
    ]
    assert not found, "prompt templates outside promptgraph/prompts/:\n" + "\n".join(found)


def test_the_check_would_see_a_template_written_inline():
    assert TEMPLATE_SIGNS.search('CRITIC = """## The step under review: `{{ node }}`') is not None
    assert TEMPLATE_SIGNS.search('<value name="{{ p.name }}">') is not None
