"""Each template's markup reads back as what it was given: the round trip test doubles rely on."""

from promptgraph import prompts
from tests.prompts.samples import EXAMPLES, PARAMETERS, SAMPLES


def shown(template: str) -> prompts.Shown:
    render, values = SAMPLES[template]
    return prompts.read(render(**values).user)


def test_the_critic_shows_the_step_its_texts_its_upstream_inputs_and_its_examples():
    found = shown("critic")
    assert found.step == "classify"
    assert found.values == {p["name"]: p["value"] for p in PARAMETERS}
    assert found.upstream == {"note": "note.note"}
    wrong, right = found.examples
    assert (wrong.correct, wrong.expected) == (False, "insincere")
    assert "the program answered sincere" in wrong.text
    assert wrong.inputs == {"text": "Why all?\nSecond line"}
    assert right.correct and "problem: cut short" in right.text


def test_the_critic_shows_the_metric_feedback_inside_its_example():
    wrong, right = shown("critic").examples
    assert (wrong.feedback, right.feedback) == ("expected 'insincere', got 'sincere'\nand why", "")


def test_read_feedback_gives_each_example_its_metric_feedback_in_order():
    render, values = SAMPLES["critic"]
    assert prompts.read_feedback(render(**values).user) == ("expected 'insincere', got 'sincere'\nand why", "")


def test_a_rewrite_shows_each_text_and_what_was_turned_down_for_it():
    found = shown("rewrite")
    assert found.values == {"classify.system": PARAMETERS[0]["value"], "classify.prefix": ""}
    assert found.rejected == {"classify.system": ("Say yes.",)}


def test_a_paraphrase_shows_the_texts_to_reword():
    assert shown("paraphrase").values == {p["name"]: p["value"] for p in PARAMETERS}


def test_opro_shows_each_tried_set_of_texts_with_its_score_and_labelled_examples():
    found = shown("opro")
    assert [(t.score, t.values) for t in found.tried] == [
        (0.25, {"classify.system": "a"}),
        (0.5, {"classify.system": ""}),
    ]
    assert found.values == {}  # the texts tried are not the texts as they are
    assert [(e.expected, e.inputs) for e in found.examples] == [(e.label, e.inputs) for e in EXAMPLES]


def test_propose_shows_the_current_text_and_labelled_examples():
    found = shown("propose")
    assert found.values == {"classify.system": "Be good."}
    assert [e.expected for e in found.examples] == ["insincere", 'a "b"']  # an attribute with quotes reads back


def test_synthesis_shows_the_class_and_expansion_the_summaries_to_expand():
    assert {shown(name).class_name for name in SAMPLES if name.startswith("synthesize")} == {"correct"}
    assert shown("synthesize_expand").summaries == ("one", "two")
    assert shown("synthesize_generate").summaries == ()


def test_a_prompt_without_markup_shows_nothing():
    assert prompts.read("## The step: `x`\n<label>sincere</label>") == prompts.Shown()
