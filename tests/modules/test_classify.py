import pytest

from promptgraph import Classify, Context, ScriptedLM
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


def test_the_check_demands_the_label_tag_and_every_label_name():
    module = Classify(LABELS)
    assert len(module.check({"system": "Answer."})) == 2
    assert module.check({"system": "End with <label>sincere</label> or <label>insincere</label>."}) == []


def test_parameters_carry_the_format_constraint_for_the_rewriter():
    assert "Label: <label>X</label>" in Classify(LABELS).system.constraints[0]


@pytest.mark.parametrize("labels", [["", "a"], ["a", "  "]])
def test_a_blank_label_is_refused(labels):
    with pytest.raises(ValueError, match="empty or blank"):
        Classify(labels)


def test_a_classify_repr_shows_its_labels_and_max_tokens():
    assert repr(Classify(LABELS)) == "Classify(labels=['sincere', 'insincere'], max_tokens=400)"


def test_a_classify_repr_shows_inputs_other_than_text():
    module = Classify(LABELS, inputs=("question", "context"), max_tokens=50)
    assert repr(module) == "Classify(labels=['sincere', 'insincere'], inputs=['question', 'context'], max_tokens=50)"
