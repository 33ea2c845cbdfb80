"""Replies of the wrong shape: the real SDK against the loopback server, each one an LMError for its call."""

import logging

import pytest

from promptgraph import Failure, LMError, Request, run_all
from promptgraph.lm import AnthropicLM, Ledger
from promptgraph.testing import MessagesServer

ASK = Request(messages=[("user", "Is this sincere?")], max_tokens=20)


@pytest.fixture
def server():
    with MessagesServer(lambda request: "Label: <label>sincere</label>") as running:
        yield running


def lm_for(server, **options):
    options = {"max_retries": 0, "layer_retries": 0, "retry_wait": 0.01} | options
    return AnthropicLM(base_url=server.base_url, api_key="test-key", **options)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("bad_json", "not valid JSON"),
        ("error_body", "error instead of a message"),
        ("not_message", "did not answer with a Messages API response"),
        ("json_list", "did not answer with a Messages API response"),
        ("no_usage", "no usage"),
    ],
)
def test_a_reply_of_the_wrong_shape_is_an_lm_error_that_says_what_came(server, fault, says):
    server.fail_next(fault)
    with pytest.raises(LMError, match=says):
        lm_for(server).complete(ASK)


@pytest.mark.parametrize("fault", ["bad_json", "error_body"])
def test_a_cut_or_error_body_is_transient_and_the_retry_gets_the_answer(server, fault):
    server.fail_next(fault)
    assert lm_for(server, layer_retries=1).complete(ASK).text == "Label: <label>sincere</label>"
    assert server.statuses[fault] == 1 and server.statuses["ok"] == 1


@pytest.mark.parametrize("fault", ["bad_json", "error_body", "not_message", "json_list", "no_usage"])
def test_an_odd_reply_fails_only_its_slot_of_a_batch(server, fault):
    server.fail_next(fault)
    requests = [Request(messages=[("user", f"q{i}")], max_tokens=20) for i in range(5)]
    results = run_all(lm_for(server, max_concurrency=1), requests, progress=False)
    failures = [result for result in results if isinstance(result, Failure)]
    assert len(failures) == 1 and isinstance(failures[0].error, LMError)
    assert sum(1 for result in results if not isinstance(result, Failure)) == 4


@pytest.mark.parametrize("fault", ["negative_usage", "huge_usage"])
def test_impossible_usage_is_one_warning_and_counts_as_unknown(server, fault, caplog):
    server.fail_next(fault)
    with caplog.at_level(logging.WARNING, logger="promptgraph.lm.anthropic"):
        response = lm_for(server).complete(ASK)
    assert response.text == "Label: <label>sincere</label>"
    assert not response.usage.known
    assert response.usage.cost("claude-haiku-5-5") == 0.0
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "usage" in caplog.records[0].getMessage()


def test_the_ledger_table_says_a_calls_usage_was_unknown_rather_than_pricing_it(server):
    server.fail_next("huge_usage")
    ledger = Ledger()
    run_all(lm_for(server), [ASK, Request(messages=[("user", "again?")], max_tokens=20)], ledger=ledger, progress=False)
    table = ledger.table()
    assert str(10**15) not in table
    assert ledger.usd < 0.01
    assert "1 call reported impossible usage" in table


def test_impossible_usage_is_warned_about_once_per_lm_not_once_per_call(server, caplog):
    server.fail_next("negative_usage", times=3)
    lm = lm_for(server)
    with caplog.at_level(logging.WARNING, logger="promptgraph.lm.anthropic"):
        responses = [lm.complete(Request(messages=[("user", f"q{i}")], max_tokens=20)) for i in range(3)]
    assert not any(response.usage.known for response in responses)
    assert len(caplog.records) == 1
