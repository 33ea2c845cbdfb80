import tomllib
from pathlib import Path

import promptgraph
from promptgraph.prompts import clip
from promptgraph.prompts.environment import environment

ROOT = Path(promptgraph.__file__).parent


def test_every_template_ships_as_package_data():
    pyproject = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["promptgraph"]
    templates = sorted((ROOT / "prompts" / "templates").glob("*.j2"))
    assert templates and all(any(path.relative_to(ROOT).match(p) for p in patterns) for path in templates)


def test_templates_render_as_plain_text_not_html():
    assert environment().from_string("{{ text }}").render(text='<label>"a" & b</label>') == '<label>"a" & b</label>'


def test_markup_attributes_are_escaped_so_a_quote_cannot_end_them():
    assert environment().from_string('<x name="{{ v | attribute }}">').render(v='a"b') == '<x name="a&quot;b">'


def test_clip_says_how_much_it_cut():
    assert clip("abcdef", 4) == "abcd… [2 more characters]" and clip(None, 4) == "" and clip("ab", 4) == "ab"
