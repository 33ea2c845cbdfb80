"""LlamaServerLM without a model: what it sends to llama-server's own endpoint and how it reads the reply."""

import pytest

from promptgraph.lm import AnthropicLM, LMError, Request
from promptgraph.lm.llama_server import LlamaServerLM, _chat_body, _response
from promptgraph.testing import MessagesServer

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False}


def test_an_unconstrained_request_goes_through_the_messages_api():
    with MessagesServer(lambda request: "hello") as server:
        lm = LlamaServerLM(AnthropicLM(base_url=server.base_url, api_key="test", model="small"))
        assert lm.complete(Request(messages=[("user", "hi")])).text == "hello"
    assert len(server.seen) == 1


def test_the_grammar_wins_over_the_schema_and_settings_travel_with_it():
    request = Request(
        messages=[("user", "q")], system="be brief", max_tokens=9, stop_sequences=("<|im_end|>",),
        temperature=0.0, grammar='root ::= "x"', output_schema=SCHEMA,
    )  # fmt: skip
    body = _chat_body(request, "small")
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert (body["grammar"], body["stop"], body["temperature"], body["max_tokens"]) == (
        'root ::= "x"', ["<|im_end|>"], 0.0, 9
    )  # fmt: skip
    assert "json_schema" not in body


def test_a_schema_alone_is_sent_as_json_schema():
    assert _chat_body(Request(messages=[("user", "q")], output_schema=SCHEMA), "small")["json_schema"] == SCHEMA


def test_a_reply_cut_at_its_length_reads_as_max_tokens():
    data = {
        "choices": [{"message": {"content": "<ans"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2},
    }
    response = _response(data, "small", 0.1)
    assert (response.text, response.stop_reason, response.usage.output_tokens) == ("<ans", "max_tokens", 2)


@pytest.mark.parametrize("data", [{}, {"choices": []}, {"choices": [{"message": {"content": "x"}}]}, [1, 2]])
def test_a_reply_that_is_not_a_chat_completion_is_an_lm_error(data):
    with pytest.raises(LMError, match="not a chat completion"):
        _response(data, "small", 0.1)


def test_every_request_stops_at_the_templates_turn_markers():
    with MessagesServer(lambda request: "hello") as server:
        lm = LlamaServerLM(AnthropicLM(base_url=server.base_url, api_key="test", model="small"))
        lm.complete(Request(messages=[("user", "hi")], stop_sequences=("###",)))
    assert server.seen[0].stop_sequences == ("###", "<|im_start|>", "<|im_end|>")
