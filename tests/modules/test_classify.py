import pytest

from promptgraph import Classify, Context, Demo, ScriptedLM
from promptgraph.formats import LabelTag
from promptgraph.modules.classify import read_label_tag
from promptgraph.trace import OK, UNPARSED

LABELS = ("sincere", "insincere")


def classify(reply: str, **options):
    return Classify(LABELS, **options).forward({"text": "q"}, Context(lm=ScriptedLM(replies=[reply])))


def test_the_default_parser_reads_the_last_label_tag():
    assert read_label_tag("<label>a</label> then Label: <label> b </label>") == "b"


def test_a_label_is_matched_ignoring_case():
    assert classify("Label: <label>Insincere</label>").outputs == {"label": "insincere"}


def test_a_reply_without_a_tag_is_unparsed():
    assert classify("It is sincere.").status == UNPARSED


def test_a_tag_holding_an_unknown_label_is_unparsed_not_the_nearest_label():
    outcome = classify("<label>sincere-ish</label>")
    assert outcome.status == UNPARSED
    assert "not one of the labels" in outcome.error


def test_a_user_parser_replaces_the_default():
    outcome = classify("VERDICT=insincere", parser=lambda text: text.split("=")[1])
    assert (outcome.status, outcome.outputs) == (OK, {"label": "insincere"})


def test_fewer_than_two_labels_is_refused():
    with pytest.raises(ValueError, match="two or more distinct labels"):
        Classify(["only"])


def test_the_format_is_stated_in_every_message_so_no_rewrite_can_lose_it():
    request = Classify(LABELS).render({"text": "Why is the sky blue?"})
    assert request.messages[-1].content.startswith("Why is the sky blue?\n\n")
    assert "sincere, insincere" in request.messages[-1].content
    assert "<label>X</label>" in request.messages[-1].content
    assert Classify(LABELS).check({"system": "Answer."}) == []


def test_an_untrained_classifier_names_its_task_in_the_system_prompt():
    assert "classifies a text as one of: sincere, insincere" in Classify(LABELS).system.value
    assert Classify(LABELS, system="Be terse.").system.value == "Be terse."


def test_the_reply_is_held_to_the_labels_where_the_server_takes_a_grammar():
    assert Classify(LABELS).render({"text": "q"}).grammar == (
        'root ::= "Label: <label>" ("sincere" | "insincere") "</label>"'
    )
    assert Classify(LABELS, parser=str.strip).render({"text": "q"}).grammar is None


def test_a_format_left_to_the_prompts_demands_the_label_tag_and_every_label_name():
    module = Classify(LABELS, format=LabelTag(stated=False))
    assert len(module.check({"system": "Answer."})) == 2
    assert module.check({"system": "End with <label>sincere</label> or <label>insincere</label>."}) == []


def test_a_format_left_to_the_prompts_is_a_constraint_for_the_rewriter():
    assert "Label: <label>X</label>" in Classify(LABELS, format=LabelTag(stated=False)).system.constraints[0]
    assert Classify(LABELS).system.constraints == ()


@pytest.mark.parametrize("labels", [["", "a"], ["a", "  "]])
def test_a_blank_label_is_refused(labels):
    with pytest.raises(ValueError, match="empty or blank"):
        Classify(labels)


def test_a_classify_repr_shows_its_labels_and_the_start_of_its_system_prompt():
    module = Classify(LABELS, system="Decide whether the question is asked in good faith or to make a statement.")
    assert repr(module) == (
        "Classify(labels=['sincere', 'insincere'], system='Decide whether the question is asked in …' (74 chars))"
    )


def test_a_classify_repr_shows_inputs_other_than_text_and_its_demos():
    module = Classify(LABELS, inputs=("question", "context"), system="Classify.")
    module.demos.update([Demo({"question": "q", "context": "c"}, "Label: <label>sincere</label>")])
    assert repr(module) == (
        "Classify(labels=['sincere', 'insincere'], inputs=['question', 'context'], system='Classify.', demos=1)"
    )


def test_a_classify_repr_counts_the_labels_past_the_first_five():
    module = Classify([f"topic{index}" for index in range(40)], system="")
    assert repr(module) == "Classify(labels=['topic0', 'topic1', 'topic2', 'topic3', 'topic4', … 35 more], system='')"


def test_a_classifier_decodes_greedily_unless_told_otherwise():
    assert Classify(LABELS).render({"text": "q"}).temperature == 0.0
    assert Classify(LABELS, temperature=None).render({"text": "q"}).temperature is None
    with pytest.raises(ValueError, match="temperature"):
        Classify(LABELS, temperature=-1.0)
