from typing import Literal

import pytest

from promptgraph.signature import Field, Signature, SignatureError, from_json, from_text, type_from_name, type_name


def test_a_string_names_inputs_and_typed_outputs():
    signature = Signature.of("question, context -> answer, confidence: float")
    assert signature.input_names == ("question", "context")
    assert signature.outputs == (Field("answer", str), Field("confidence", float))


def test_the_keyword_form_takes_descriptions_types_and_pairs():
    signature = Signature.of(
        inputs={"question": "the user's question"},
        outputs={"answer": (str, "one sentence"), "label": Literal["a", "b"], "n": int},
    )
    assert signature.inputs == (Field("question", str, "the user's question"),)
    assert signature.output("answer").description == "one sentence"
    assert signature.output("label").choices == ("a", "b")


@pytest.mark.parametrize(
    "spec, fault",
    [
        ("question answer", "exactly one '->'"),
        ("a -> b -> c", "exactly one '->'"),
        ("question -> answer: decimal", "unknown type 'decimal'"),
        ("question: int -> answer", "inputs are text"),
        ("question -> answer, answer", "named twice"),
        ("question -> 2nd", "not a field name"),
        (" -> answer", "not a field name"),
    ],
)
def test_a_bad_signature_string_says_what_to_fix(spec, fault):
    with pytest.raises(SignatureError, match=fault):
        Signature.of(spec)


@pytest.mark.parametrize(
    "outputs, fault",
    [
        ({"label": Literal["only"]}, "two or more"),
        ({"label": Literal["a", "A"]}, "differ only in case"),
        ({"label": Literal["a", 1]}, "string labels"),
        ({"x": complex}, "unsupported type"),
        ("answer", "list of names or a dict"),
        ({}, "at least one field"),
    ],
)
def test_bad_keyword_outputs_are_refused(outputs, fault):
    with pytest.raises(SignatureError, match=fault):
        Signature.of(inputs=["q"], outputs=outputs)


@pytest.mark.parametrize(
    "type_, text, value",
    [
        (str, "  hello \n", "hello"),
        (int, "1,204", 1204),
        (int, "-3", -3),
        (float, "0.75", 0.75),
        (bool, "Yes", True),
        (bool, "false", False),
        (Literal["sincere", "insincere"], "Insincere", "insincere"),
        (list[str], "- one\n- two\n\n3. three", ["one", "two", "three"]),
        (list[str], '["a, b", "c"]', ["a, b", "c"]),
    ],
)
def test_text_is_read_as_its_type(type_, text, value):
    assert from_text(Field("f", type_), text) == value


@pytest.mark.parametrize(
    "type_, text, fault",
    [
        (int, "twelve", "f: expected a whole number, got 'twelve'"),
        (int, "1.5", "whole number"),
        (float, "high", "f: expected a number"),
        (float, "nan", "finite"),
        (bool, "maybe", "f: expected true or false"),
        (Literal["a", "b"], "c", "f: 'c' is not one of the labels a, b"),
    ],
)
def test_a_wrong_text_value_names_the_field_and_the_fault(type_, text, fault):
    with pytest.raises(ValueError, match=fault):
        from_text(Field("f", type_), text)


def test_a_record_is_read_from_json_field_by_field():
    person = Field("person", Signature.of(inputs=["x"], outputs={"name": str, "age": int}).outputs)
    assert from_json(person, {"name": "Ada", "age": 36}) == {"name": "Ada", "age": 36}
    with pytest.raises(ValueError, match=r"person.age: expected a whole number, got text"):
        from_json(person, {"name": "Ada", "age": "36"})
    with pytest.raises(ValueError, match="person: missing age"):
        from_json(person, {"name": "Ada"})
    with pytest.raises(ValueError, match="a record can only be read from JSON"):
        from_text(person, "Ada")


@pytest.mark.parametrize(
    "type_, value, fault",
    [
        (int, True, "expected a whole number, got a boolean"),
        (int, 2.5, "expected a whole number"),
        (float, "0.5", "expected a number, got text"),
        (bool, 1, "expected true or false"),
        (list[str], ["a", 2], "expected a list of texts"),
        (str, None, "expected text, got null"),
        (Literal["a", "b"], 1, "expected one of a, b"),
    ],
)
def test_json_values_are_checked_strictly(type_, value, fault):
    with pytest.raises(ValueError, match=fault):
        from_json(Field("f", type_), value)


def test_json_numbers_and_labels_that_fit_are_taken():
    assert from_json(Field("f", float), 1) == 1.0
    assert from_json(Field("f", Literal["yes", "no"]), "YES") == "yes"


def test_a_signature_survives_its_dict_form():
    signature = Signature.of(
        inputs={"q": "the question"},
        outputs={"a": (float, "how sure"), "l": Literal["x", "y"], "items": list[str], "r": {"n": int}},
    )
    assert Signature.from_dict(signature.to_dict()) == signature


def test_a_saved_type_is_never_imported_by_name():
    with pytest.raises(SignatureError, match="unknown field type 'os.system'"):
        type_from_name("os.system")
    assert type_from_name(type_name(list[str])) == list[str]


def test_the_signature_reads_back_as_written():
    assert str(Signature.of("question -> answer, score: int")) == "question -> answer, score: int"
    assert repr(Signature.of("q -> a")) == "Signature('q -> a')"


def test_a_field_repr_names_its_type_and_the_start_of_its_description():
    field = Field("answer", float, "how sure the model is, from 0 to 1, written as a decimal number")
    assert repr(field) == "Field(answer: float, description='how sure the model is, from 0 to 1, writ…')"


def test_a_field_of_many_labels_shows_the_start_of_their_list():
    field = Field("topic", Literal[tuple(f"topic{index}" for index in range(50))])
    assert repr(field) == f"Field(topic: {('one of: ' + ', '.join(f'topic{i}' for i in range(50)))[:60]}…)"


def test_a_signature_of_many_fields_shows_its_start_and_length():
    signature = Signature.of(", ".join(f"field{index}" for index in range(40)) + " -> answer")
    assert repr(signature).startswith("Signature('field0, field1, ") and repr(signature).endswith("(358 chars))")
