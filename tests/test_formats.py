from typing import Literal

import pytest

from promptgraph.formats import JSONSchema, LabelTag, Tags, Text, format_from_dict, format_to_dict, schema_of
from promptgraph.signature import Signature, SignatureError
from tests.gbnf import admits

LABELS = Signature.of(inputs=["text"], outputs={"label": Literal["sincere", "insincere"]})
TYPED = Signature.of(
    inputs=["question"], outputs={"answer": (str, "one sentence"), "confidence": float, "sources": list[str]}
)
ALL_FORMATS = [Tags(), LabelTag(), JSONSchema()]


@pytest.mark.parametrize("answer_format, signature", [(Tags(), TYPED), (LabelTag(), LABELS), (JSONSchema(), TYPED)])
def test_a_demo_answer_is_read_back_by_the_same_format(answer_format, signature):
    outputs = (
        {"label": "insincere"}
        if signature is LABELS
        else {"answer": "Paris.", "confidence": 0.9, "sources": ["atlas", "wiki"]}
    )
    assert answer_format.parse(answer_format.answer_text(outputs, signature), signature) == outputs


def test_tags_keep_the_layout_generate_always_had_for_plain_text():
    plain = Signature.of("question -> answer")
    assert (
        Tags().instruction(plain) == "Write your reply in this layout, each part inside its tags:\n<answer>...</answer>"
    )


def test_tags_name_each_typed_field_and_its_description():
    instruction = Tags().instruction(TYPED)
    assert "- answer: one sentence" in instruction
    assert "- confidence: float" in instruction
    assert "- sources: a list, one item a line" in instruction


def test_tags_read_the_last_answer_and_name_a_missing_field():
    signature = Signature.of("q -> answer")
    assert Tags().parse("<answer>draft</answer> no wait <answer>final</answer>", signature) == {"answer": "final"}
    with pytest.raises(ValueError, match="no <confidence>"):
        Tags().parse("<answer>x</answer>", TYPED)


def test_a_tag_with_a_wrong_type_names_the_field():
    with pytest.raises(ValueError, match="confidence: expected a number, got 'very'"):
        Tags().parse("<answer>x</answer><confidence>very</confidence><sources>a</sources>", TYPED)


def test_the_label_format_names_every_label_and_the_tag():
    instruction = LabelTag().instruction(LABELS)
    assert "sincere, insincere" in instruction and "<label>X</label>" in instruction


def test_the_label_format_refuses_a_label_outside_the_set():
    with pytest.raises(ValueError, match="'neutral' is not one of the labels sincere, insincere"):
        LabelTag().parse("Label: <label>neutral</label>", LABELS)


def test_the_label_format_needs_one_labelled_output():
    with pytest.raises(SignatureError, match="exactly one output of Literal labels"):
        LabelTag().check(TYPED)


def test_tags_cannot_carry_a_record_but_json_can():
    nested = Signature.of(inputs=["q"], outputs={"person": {"name": str, "age": int}})
    with pytest.raises(SignatureError, match="cannot carry the record person"):
        Tags().check(nested)
    JSONSchema().check(nested)
    assert JSONSchema().parse('{"person": {"name": "Ada", "age": 36}}', nested) == {
        "person": {"name": "Ada", "age": 36}
    }


def test_json_reads_an_object_wrapped_in_prose_and_names_what_is_missing():
    assert JSONSchema().parse('Sure: {"answer": "x", "confidence": 1, "sources": []}', TYPED)["confidence"] == 1.0
    with pytest.raises(ValueError, match="has no confidence, sources"):
        JSONSchema().parse('{"answer": "x"}', TYPED)
    with pytest.raises(ValueError, match="no JSON object"):
        JSONSchema().parse("no json here", TYPED)


def test_the_schema_is_strict_as_structured_outputs_need():
    schema = schema_of(TYPED.outputs)
    assert schema["required"] == ["answer", "confidence", "sources"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["answer"] == {"type": "string", "description": "one sentence"}
    assert schema["properties"]["sources"] == {"type": "array", "items": {"type": "string"}}
    assert schema_of(LABELS.outputs)["properties"]["label"] == {"type": "string", "enum": ["sincere", "insincere"]}


def test_only_json_asks_for_a_schema_and_json_no_grammar():
    assert JSONSchema().output_schema(TYPED) == schema_of(TYPED.outputs)
    assert Tags().output_schema(TYPED) is None and LabelTag().output_schema(LABELS) is None
    assert LabelTag().grammar(LABELS) == 'root ::= "Label: <label>" ("sincere" | "insincere") "</label>"'
    assert JSONSchema().grammar(TYPED) is None  # servers with grammars take the schema itself


def test_a_label_with_quotes_is_escaped_in_the_grammar():
    odd = Signature.of(inputs=["t"], outputs={"l": Literal['say "hi"', "back\\slash"]})
    assert LabelTag().grammar(odd) == 'root ::= "Label: <label>" ("say \\"hi\\"" | "back\\\\slash") "</label>"'


EVERY_TYPE = Signature.of(
    inputs=["question"],
    outputs={
        "reasoning": str,
        "verdict": Literal["yes", "no"],
        "count": int,
        "score": float,
        "sure": bool,
        "sources": list[str],
    },
)
WELL_FORMED = {
    "reasoning": "Two sources agree.\nSo: yes.",
    "verdict": "no",
    "count": -3,
    "score": 1.5e-05,
    "sure": False,
    "sources": ["atlas", "- wiki page"],
}


def test_the_tags_grammar_admits_the_answer_the_format_writes_and_reads():
    reply = Tags().answer_text(WELL_FORMED, EVERY_TYPE)
    assert admits(Tags().grammar(EVERY_TYPE), reply)
    assert Tags().parse(reply, EVERY_TYPE)["sources"] == ["atlas", "wiki page"]


@pytest.mark.parametrize("score", [0.1 + 0.2, 1234567890123456.0, 1e16, -2.5e-300, 7.0])
def test_the_tags_grammar_admits_a_number_as_python_writes_it(score):
    assert admits(Tags().grammar(EVERY_TYPE), Tags().answer_text({**WELL_FORMED, "score": score}, EVERY_TYPE))


@pytest.mark.parametrize(
    "field, value",
    [
        ("verdict", "maybe"),  # not one of the labels
        ("verdict", "No"),  # the labels as written
        ("count", "2.5"),
        ("count", "three"),
        ("count", "1" * 19),  # more digits than a number has: a model must not write them forever
        ("score", "0." + "3" * 18),
        ("score", "1.5.2"),
        ("score", "nan"),
        ("sure", "yes"),
        ("reasoning", "a < b"),  # free text may not open a tag
        ("sources", "atlas\n\nwiki"),  # an empty item
    ],
)
def test_the_tags_grammar_refuses_a_value_its_type_does_not_admit(field, value):
    bad = Tags().answer_text({**WELL_FORMED, field: value}, EVERY_TYPE)  # a text value is written as it is
    assert not admits(Tags().grammar(EVERY_TYPE), bad)


@pytest.mark.parametrize(
    "reply",
    [
        "<answer>Paris</answer>",  # a field missing
        "<confidence>0.9</confidence>\n<answer>Paris</answer>\n<sources>atlas</sources>",  # out of order
        "Sure! <answer>Paris</answer>\n<confidence>0.9</confidence>\n<sources>atlas</sources>",  # text before
        "<answer>Paris</answer>\n<confidence>0.9</confidence>\n<sources>atlas</sources> Done.",  # text after
    ],
)
def test_the_tags_grammar_holds_the_fields_to_their_order_and_nothing_around_them(reply):
    assert not admits(Tags().grammar(TYPED), reply)


def test_the_tags_grammar_defines_only_the_value_rules_it_uses():
    grammar = Tags().grammar(Signature.of("question -> answer, score: int"))
    assert [line.split(" ::= ")[0] for line in grammar.splitlines()] == ["root", "text", "whole-number"]


def test_a_tag_grammar_escapes_its_labels():
    odd = Signature.of(inputs=["t"], outputs={"l": Literal['say "hi"', "back\\slash"], "why": str})
    assert admits(Tags().grammar(odd), '<l>say "hi"</l>\n<why>because</why>')


@pytest.mark.parametrize(
    "answer_format",
    [Tags(lead="Think first. "), LabelTag(), LabelTag(stated=False), JSONSchema(), Text(note="Be brief.")],
)
def test_a_format_survives_its_dict_form(answer_format):
    assert format_from_dict(format_to_dict(answer_format)) == answer_format


@pytest.mark.parametrize(
    "data",
    [
        {"name": "pickle"},
        {"name": "tags", "module": "os"},
        {"name": "tags", "lead": 3},
        {"name": "label", "stated": "no"},
    ],
)
def test_a_saved_format_is_never_more_than_a_known_name(data):
    with pytest.raises(SignatureError):
        format_from_dict(data)


def test_the_text_format_is_the_whole_reply_and_carries_one_text_output():
    plain = Signature.of("question -> answer")
    assert Text().parse("  Paris.\n", plain) == {"answer": "Paris."}
    assert Text().instruction(plain) == "" and Text(note="One word.").instruction(plain) == "One word."
    with pytest.raises(SignatureError, match="one text output"):
        Text().check(TYPED)


def test_a_label_format_left_to_the_prompts_states_nothing_but_reads_the_same():
    assert LabelTag(stated=False).instruction(LABELS) == ""
    assert LabelTag(stated=False).parse("Label: <label>sincere</label>", LABELS) == {"label": "sincere"}


@pytest.mark.parametrize(
    "reply",
    [
        "Label: <label>neutral</label>",  # not one of the labels
        "Label: <label>Sincere</label>",  # a label as it is not written
        "Label: <label>sincere</label> because it asks",  # text after the label
        "I think so. Label: <label>sincere</label>",  # text before it
        "Label: <label>sincere</label>\nLabel: <label>insincere</label>",  # two answers
        "Label: <label> sincere</label>",
        "sincere",
        "",
    ],
)
def test_the_label_grammar_admits_nothing_but_one_label_in_the_format(reply):
    assert not admits(LabelTag().grammar(LABELS), reply)


def test_the_label_grammar_admits_exactly_the_answer_of_each_label():
    grammar = LabelTag().grammar(LABELS)
    for label in ("sincere", "insincere"):
        reply = LabelTag().answer_text({"label": label}, LABELS)
        assert admits(grammar, reply) and LabelTag().parse(reply, LABELS) == {"label": label}
