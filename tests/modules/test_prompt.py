from typing import Literal

import pytest

from promptgraph import Context, Prompt, ScriptedLM
from promptgraph.formats import JSONSchema, schema_of
from promptgraph.lm import Response, Usage
from promptgraph.trace import FAILED, OK, UNPARSED


def test_the_user_message_is_prefix_input_and_suffix_joined_by_blank_lines():
    prompt = Prompt(prefix="Read this:", suffix="Answer briefly.", system="Be kind.")
    request = prompt.render({"text": "Why?"})
    assert request.system == "Be kind."
    assert request.messages[0].content == "Read this:\n\nWhy?\n\nAnswer briefly."


def test_empty_parts_are_left_out():
    assert Prompt().render({"text": "Why?"}).messages[0].content == "Why?"


def test_several_inputs_are_rendered_with_their_names():
    request = Prompt(inputs=("question", "student_answer")).render({"question": "2+2?", "student_answer": "4"})
    assert request.messages[0].content == "Question: 2+2?\n\nStudent answer: 4"


def test_a_parser_that_finds_nothing_makes_the_outcome_unparsed():
    prompt = Prompt(parser=lambda text: None)
    outcome = prompt.forward({"text": "x"}, Context(lm=ScriptedLM(replies=["whatever"])))
    assert (outcome.status, outcome.outputs) == (UNPARSED, {})
    assert outcome.response.text == "whatever"


def test_a_reply_cut_at_max_tokens_says_so_when_unparsed():
    cut = Response(text="Label: <lab", stop_reason="max_tokens", usage=Usage(1, 1), model="m")
    outcome = Prompt(parser=lambda text: None).forward({"text": "x"}, Context(lm=ScriptedLM(respond=lambda r: cut)))
    assert "max_tokens" in outcome.error


def test_a_failed_call_makes_the_outcome_failed_not_an_exception():
    outcome = Prompt().forward({"text": "x"}, Context(lm=ScriptedLM()))
    assert outcome.status == FAILED
    assert "ran out of replies" in outcome.error


def test_calls_carry_the_context_tag_and_seed():
    lm = ScriptedLM(replies=["ok"])
    outcome = Prompt().forward({"text": "x"}, Context(lm=lm, seed=7, tag="validate"))
    assert outcome.status == OK
    assert (lm.requests[0].tag, lm.requests[0].seed) == ("validate", 7)


def test_demos_come_first_as_earlier_turns_answered_by_their_output():
    from promptgraph.parameter import Demo

    prompt = Prompt(prefix="Q:")
    prompt.demos.pairs = [Demo({"text": "2+2?"}, "4")]
    request = prompt.render({"text": "3+3?"})
    assert [(m.role, m.content) for m in request.messages] == [
        ("user", "Q:\n\n2+2?"),
        ("assistant", "4"),
        ("user", "Q:\n\n3+3?"),
    ]


@pytest.mark.parametrize("setting", ["max_tokens", "max_input_chars"])
@pytest.mark.parametrize("value", [0, -5, 2.5, True])
def test_a_length_limit_below_one_or_not_whole_is_refused(setting, value):
    with pytest.raises(ValueError, match=f"{setting} must be a whole number of at least 1"):
        Prompt(**{setting: value})


def test_a_prompt_repr_shows_its_signature_and_the_start_of_its_system_prompt():
    module = Prompt("a, b -> c: int", system="Add the two numbers you are given and write their sum. " * 4)
    assert repr(module) == "Prompt('a, b -> c: int', system='Add the two numbers you are given and wr…' (220 chars))"


def test_a_signature_string_declares_the_inputs_and_typed_outputs():
    prompt = Prompt("question, context -> answer, confidence: float")
    assert (prompt.inputs, prompt.outputs) == (("question", "context"), ("answer", "confidence"))
    outcome = prompt.forward(
        {"question": "q", "context": "c"},
        Context(lm=ScriptedLM(replies=["<answer>Paris</answer><confidence>0.9</confidence>"])),
    )
    assert outcome.outputs == {"answer": "Paris", "confidence": 0.9}


def test_a_value_of_the_wrong_type_is_unparsed_naming_the_field():
    prompt = Prompt("question -> answer, confidence: float")
    reply = "<answer>Paris</answer><confidence>very</confidence>"
    outcome = prompt.forward({"question": "q"}, Context(lm=ScriptedLM(replies=[reply])))
    assert outcome.status == UNPARSED and outcome.error == "confidence: expected a number, got 'very'"


def test_a_json_module_asks_for_its_schema_and_reads_typed_json():
    prompt = Prompt(outputs={"label": Literal["a", "b"], "score": int}, format=JSONSchema())
    request = prompt.render({"text": "x"})
    assert request.output_schema == schema_of(prompt.signature.outputs) and request.grammar is None
    outcome = prompt.forward({"text": "x"}, Context(lm=ScriptedLM(replies=['{"label": "b", "score": 3}'])))
    assert outcome.outputs == {"label": "b", "score": 3}


def test_forward_calls_ask_for_low_effort_unless_told_otherwise():
    assert Prompt().render({"text": "x"}).effort == "low"
    assert Prompt(effort=None).render({"text": "x"}).effort is None
    with pytest.raises(ValueError, match="effort"):
        Prompt(effort="extreme")


def test_a_typed_demo_answer_is_written_in_the_format_the_parser_reads():
    prompt = Prompt("question -> answer, score: int")
    text = prompt.answer_text({"answer": "4", "score": 9})
    assert prompt.parse(text) == {"answer": "4", "score": 9}


def test_a_thinking_budget_must_leave_room_below_max_tokens():
    with pytest.raises(ValueError, match="raise max_tokens or lower the budget"):
        Prompt("q -> a", thinking=2048, max_tokens=2048)
    assert Prompt("q -> a", thinking=2048, max_tokens=4096).render({"q": "x"}).thinking == 2048


def test_a_missing_api_key_stops_the_call_instead_of_failing_it(monkeypatch):
    from promptgraph.lm import AnthropicLM, MissingAPIKey

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(MissingAPIKey, match="ANTHROPIC_API_KEY"):  # every call would fail alike: say so once
        Prompt().forward({"text": "x"}, Context(lm=AnthropicLM(max_retries=0, layer_retries=0)))
