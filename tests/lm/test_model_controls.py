"""Effort, thinking and a JSON schema for the reply: sent where asked, dropped once where refused, in the cache key."""

import json
import logging

import pytest

from promptgraph.lm import AnthropicLM, Ledger, Request, call
from promptgraph.lm.cache import request_key
from promptgraph.testing import MessagesServer

SCHEMA = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["a", "b"]}},
    "required": ["label"],
    "additionalProperties": False,
}


def lm_for(server):
    return AnthropicLM(base_url=server.base_url, api_key="test-key", max_retries=0, layer_retries=0)


def ask(**controls) -> Request:
    return Request(messages=[("user", "a or b?")], max_tokens=50, **controls)


def test_effort_thinking_and_schema_reach_the_request_body():
    with MessagesServer(lambda request: '{"label": "a"}') as server:
        lm_for(server).complete(ask(effort="low", thinking="adaptive", output_schema=SCHEMA))
    (seen,) = server.seen
    assert (seen.effort, seen.thinking, seen.output_schema) == ("low", "adaptive", SCHEMA)


def test_nothing_is_sent_that_was_not_asked_for():
    with MessagesServer(lambda request: "a") as server:
        lm_for(server).complete(ask())
    assert server.seen[0].model_controls() == {}


def test_a_server_without_structured_outputs_is_asked_again_without_the_schema_and_never_again_with_it(caplog):
    with MessagesServer(lambda request: "Label: a", refuses=("output_config.format",)) as server:
        lm = lm_for(server)
        with caplog.at_level(logging.WARNING, logger="promptgraph.lm.anthropic"):
            first = lm.complete(ask(output_schema=SCHEMA, effort="low"))
            lm.complete(ask(output_schema=SCHEMA, effort="low"))
    assert first.text == "Label: a"
    assert server.statuses["refused"] == 1
    assert [request.output_schema for request in server.seen] == [None, None]
    assert [request.effort for request in server.seen] == ["low", "low"]  # only the refused field is dropped
    assert len([record for record in caplog.records if "output_config.format" in record.getMessage()]) == 1


def test_a_refused_output_config_drops_all_of_it():
    with MessagesServer(lambda request: "a", refuses=("output_config",)) as server:
        lm_for(server).complete(ask(output_schema=SCHEMA, effort="high"))
    assert server.seen[0].model_controls() == {}


def test_thinking_tokens_are_paid_as_output_and_never_read_as_the_answer():
    with MessagesServer(lambda request: "Label: a", thinking_tokens={"high": 800, "low": 0}) as server:
        lm, ledger = lm_for(server), Ledger()
        high = call(lm, ask(effort="high"), ledger=ledger)
        low = call(lm, ask(effort="low"), ledger=ledger)
    assert high.text == low.text == "Label: a"
    assert high.usage.output_tokens - low.usage.output_tokens == 800


def test_each_control_changes_the_cache_key_and_none_leaves_old_keys_as_they_were():
    keys = {request_key(ask(**controls), "m", "anthropic") for controls in (
        {}, {"effort": "low"}, {"effort": "high"}, {"thinking": "disabled"}, {"output_schema": SCHEMA}
    )}  # fmt: skip
    assert len(keys) == 5
    # the key of a request without controls is the one written before they existed (cache KEY_VERSION 2)
    assert request_key(ask(), "m", "anthropic") == _key_without_controls(ask())


def _key_without_controls(request: Request) -> str:
    import hashlib

    fields = {
        "version": 2, "backend": "anthropic", "model": "m", "system": "", "messages": [["user", "a or b?"]],
        "max_tokens": 50, "stop_sequences": [], "temperature": None, "top_p": None, "top_k": None, "seed": 0,
    }  # fmt: skip
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@pytest.mark.parametrize(("setting", "value"), [("effort", "extreme"), ("thinking", 500), ("thinking", True)])
def test_a_control_no_model_takes_is_refused_before_sending(setting, value):
    with pytest.raises(ValueError):
        ask(**{setting: value})


def test_a_model_that_takes_no_temperature_is_asked_again_without_it_once_for_good(caplog):
    with MessagesServer(lambda request: "a", refuses=("temperature",)) as server:
        lm = lm_for(server)
        with caplog.at_level(logging.WARNING, logger="promptgraph.lm.anthropic"):
            lm.complete(ask(temperature=0.0, effort="low"))
            lm.complete(ask(temperature=0.0, effort="low"))
    assert server.statuses["refused"] == 1
    assert [(request.temperature, request.effort) for request in server.seen] == [(None, "low"), (None, "low")]
    assert len([record for record in caplog.records if "refused temperature" in record.getMessage()]) == 1


def test_a_refusal_in_the_apis_backticked_words_is_understood():
    from promptgraph.lm.anthropic import _refused_controls
    from promptgraph.lm.base import LMError

    error = LMError("m: the API answered 400: `temperature` may only be set to 1 when thinking is enabled", status=400)
    assert _refused_controls(error, {"temperature": 0.0, "thinking": {}}) == {"temperature"}
