"""A server that keeps refusing: x-should-retry is obeyed, and the circuit breaker stops the LM with one message."""

import logging

import pytest

from promptgraph import Classify, Example, LMError, Program, Request, run_all
from promptgraph.lm import AnthropicLM, TooManyFailures
from promptgraph.lm.breaker import CircuitBreaker
from promptgraph.testing import MessagesServer


@pytest.fixture
def server():
    with MessagesServer(lambda request: "Label: <label>sincere</label>") as running:
        yield running


def lm_for(server, **options):
    options = {"max_retries": 2, "layer_retries": 2, "retry_wait": 0.01} | options
    return AnthropicLM(base_url=server.base_url, api_key="test-key", **options)


def ask(number: int = 0) -> Request:
    return Request(messages=[("user", f"question {number}?")], max_tokens=20)


def test_a_429_that_says_do_not_retry_is_sent_once_and_says_why(server):
    server.fail_always("429_no_retry")
    with pytest.raises(LMError, match="said not to retry.*spend limit") as caught:
        lm_for(server).complete(ask())
    assert not caught.value.transient
    assert server.statuses["429_no_retry"] == 1


def test_a_server_that_always_answers_429_stops_the_lm_within_a_bounded_number_of_requests(server):
    server.fail_always("429")
    lm = lm_for(server, max_consecutive_failures=3, max_concurrency=2, max_retries=1, layer_retries=1)
    with pytest.raises(TooManyFailures, match="3 requests in a row failed") as caught:
        run_all(lm, [ask(i) for i in range(40)], progress=False)
    assert "max_consecutive_failures" in str(caught.value)
    # 3 failed attempts of (1 + 1 SDK retry) requests, plus what the other call in flight had sent
    assert len(server.seen) <= (3 + 2) * 2


def test_once_stopped_every_later_call_fails_at_once_without_a_request(server):
    server.fail_always("529")
    lm = lm_for(server, max_consecutive_failures=2, max_retries=0, layer_retries=0)
    for number in range(2):
        with pytest.raises((LMError, TooManyFailures)):
            lm.complete(ask(number))
    sent = len(server.seen)
    server.recover()
    with pytest.raises(TooManyFailures):
        lm.complete(ask(9))
    assert len(server.seen) == sent


def test_a_success_between_failures_starts_the_count_again(server):
    lm = lm_for(server, max_consecutive_failures=2, max_retries=0, layer_retries=0)
    for number in range(3):
        server.fail_next("500")
        with pytest.raises(LMError):
            lm.complete(ask(number))
        lm.complete(ask(number + 100))
    assert server.statuses["500"] == 3 and server.statuses["ok"] == 3


def test_failures_that_are_the_requests_own_do_not_count(server):
    server.fail_next("400", times=5)
    lm = lm_for(server, max_consecutive_failures=2)
    for number in range(5):
        with pytest.raises(LMError, match="400"):
            lm.complete(ask(number))
    assert lm.complete(ask(9)).text.endswith("</label>")


def test_a_program_run_against_a_refusing_server_ends_with_the_one_message(server):
    server.fail_always("529")
    program = Program.of(Classify(["sincere", "insincere"]), name="c")
    examples = [Example({"text": f"question {i}"}) for i in range(30)]
    lm = lm_for(server, max_consecutive_failures=4, max_concurrency=1, max_retries=0, layer_retries=0)
    with pytest.raises(TooManyFailures, match="4 requests in a row failed"):
        program.run(examples, lm=lm, progress=False)
    assert len(server.seen) == 4


def test_a_call_refused_by_the_open_breaker_is_logged_at_debug(caplog):
    breaker = CircuitBreaker(limit=1)
    breaker.failed(LMError("529 overloaded", transient=True), server="the API")
    caplog.clear()  # the warning that it opened
    with caplog.at_level(logging.DEBUG, logger="promptgraph.lm.breaker"), pytest.raises(TooManyFailures):
        breaker.check()
    assert [(r.levelno, "refused" in r.getMessage()) for r in caplog.records] == [(logging.DEBUG, True)]


def test_the_breakers_message_says_where_a_python_user_sets_the_limit():
    breaker = CircuitBreaker(limit=1)
    breaker.failed(LMError("overloaded", transient=True), server="http://127.0.0.1:9")
    with pytest.raises(TooManyFailures, match=r"AnthropicLM\(max_consecutive_failures=") as caught:
        breaker.check()
    assert "--max-consecutive-failures" in str(caught.value)  # the CLI's spelling, still named
