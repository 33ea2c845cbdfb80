import jinja2
import pytest

from promptgraph import prompts
from promptgraph.prompts.environment import render
from tests.prompts.samples import SAMPLES

TAGS = {
    "critic": "critic",
    "rewrite": "rewrite",
    "paraphrase": "paraphrase",
    "opro": "opro",
    "propose": "propose",
    "synthesize_generate": "synthesize generate",
    "synthesize_diversify": "synthesize diversify",
    "synthesize_expand": "synthesize expand",
}


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_every_template_renders_a_system_prompt_and_a_user_message_tagged_with_what_it_is(template):
    render, values = SAMPLES[template]
    rendered = render(**values)
    assert rendered.tag == TAGS[template]
    assert rendered.system.endswith("Reply with one JSON object and nothing else.")
    assert rendered.user and rendered.user == rendered.user.strip()


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_a_template_missing_a_value_it_uses_fails_loudly(template):
    _, values = SAMPLES[template]
    first, *rest = values  # each template's first value is one it always shows
    with pytest.raises(jinja2.UndefinedError, match=first):
        render(template, tag="t", **{name: values[name] for name in rest})


def test_the_synthesis_phases_share_one_system_prompt():
    systems = {SAMPLES[name][0](**SAMPLES[name][1]).system for name in SAMPLES if name.startswith("synthesize")}
    assert len(systems) == 1


def test_rendering_is_plain_text_so_angle_brackets_in_a_value_reach_the_model_as_written():
    render, values = SAMPLES["rewrite"]
    assert 'Say "yes" or <label>no</label>.' in render(**values).user


def test_the_rewrite_asks_for_edits_in_edit_mode():
    render, values = SAMPLES["rewrite"]
    assert '"edits"' in render(**{**values, "edits": True}).user and '"edits"' not in render(**values).user


def test_a_rendered_prompt_makes_the_request_that_asks_it_tagged_with_what_it_is():
    render, values = SAMPLES["critic"]
    rendered = render(**values)
    request = rendered.request(max_tokens=123, seed=4)
    assert (request.tag, request.system, request.max_tokens, request.seed) == ("critic", rendered.system, 123, 4)
    assert [(m.role, m.content) for m in request.messages] == [("user", rendered.user)]


def test_the_repair_message_lists_every_problem():
    text = prompts.repair(problems=['"values" must be an object', "no JSON"])
    assert text.startswith('Your reply could not be used: "values" must be an object; no JSON')
