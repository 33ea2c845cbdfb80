from promptgraph.prompts import clip
from promptgraph.prompts.environment import environment


def test_templates_render_as_plain_text_not_html():
    assert environment().from_string("{{ text }}").render(text='<label>"a" & b</label>') == '<label>"a" & b</label>'


def test_markup_attributes_are_escaped_so_a_quote_cannot_end_them():
    assert environment().from_string('<x name="{{ v | attribute }}">').render(v='a"b') == '<x name="a&quot;b">'


def test_clip_says_how_much_it_cut():
    assert clip("abcdef", 4) == "abcd… [2 more characters]" and clip(None, 4) == "" and clip("ab", 4) == "ab"
