"""Faults survived: the real SDK against the loopback Messages API server, one fault at a time."""

import threading
import time

import pytest

from promptgraph import Classify, Example, Failure, LMError, Program, Request, run_all
from promptgraph.lm import AnthropicLM
from promptgraph.lm.limiter import AdaptiveLimit
from promptgraph.testing import MessagesServer
from promptgraph.trace import FAILED, UNPARSED


def echo(request):
    return f"Label: <label>{'insincere' if 'all' in request.messages[-1].content else 'sincere'}</label>"


@pytest.fixture
def server():
    with MessagesServer(echo, slow_seconds=1.5) as running:
        yield running


def lm_for(server, **options):
    options = {"max_retries": 2, "layer_retries": 0, "retry_wait": 0.01, "timeout": 5.0} | options
    return AnthropicLM(base_url=server.base_url, api_key="test-key", **options)


ASK = Request(messages=[("user", "Why are all cats mean?")], max_tokens=20)


@pytest.mark.parametrize("fault", ["429", "529", "500", "drop", "truncate"])
def test_a_transient_fault_is_retried_and_the_call_succeeds(server, fault):
    server.fail_next(fault)
    assert lm_for(server).complete(ASK).text == "Label: <label>insincere</label>"
    assert server.statuses[fault] == 1 and server.statuses["ok"] == 1


def test_a_reply_slower_than_the_timeout_is_a_clear_transient_error(server):
    server.fail_next("slow", times=3)
    with pytest.raises(LMError, match=r"no answer within 0.5s") as caught:
        lm_for(server, timeout=0.5, max_retries=0).complete(ASK)
    assert caught.value.transient


def test_the_layer_retries_after_the_sdk_gives_up(server):
    server.fail_next("500", times=3)  # the SDK tries 1 + 2 times, all fail; our layer tries once more
    assert lm_for(server, layer_retries=1).complete(ASK).text.endswith("</label>")
    assert server.statuses["500"] == 3


def test_a_persistent_failure_ends_after_both_layers_with_the_status(server):
    server.fail_next("500", times=50)
    with pytest.raises(LMError, match="500") as caught:
        lm_for(server, max_retries=1, layer_retries=1).complete(ASK)
    assert caught.value.status == 500
    assert server.statuses["500"] == 4  # (1 + 1 SDK retry) x (1 + 1 layer retry)


def test_a_reply_cut_at_max_tokens_is_unparsed_and_says_why(server):
    server.fail_next("max_tokens")
    program = Program.of(Classify(["sincere", "insincere"]), name="c")
    (trace,) = program.run([Example({"text": "Why are all cats mean?"})], lm=lm_for(server), progress=False)
    assert trace.status == UNPARSED and "max_tokens" in trace.final.outcome.error


def test_one_forward_call_failing_for_good_fails_that_example_and_the_run_goes_on(server):
    server.fail_next("500")
    program = Program.of(Classify(["sincere", "insincere"]), name="c")
    examples = [Example({"text": f"question {i}"}) for i in range(6)]
    traces = program.run(examples, lm=lm_for(server, max_retries=0, max_concurrency=1), progress=False)
    assert [t.status for t in traces].count(FAILED) == 1
    assert all(t.prediction == "sincere" for t in traces if t.status != FAILED)


def test_under_a_rate_limit_every_request_finishes_paced_at_the_rate_the_headers_report():
    with MessagesServer(echo, requests_per_second=15) as server:
        lm = lm_for(server, max_concurrency=12, max_retries=6)
        results = run_all(lm, [Request(messages=[("user", f"q{i}")], max_tokens=20) for i in range(60)], progress=False)
    assert not [r for r in results if isinstance(r, Failure)]
    assert lm.pacer.rate() == pytest.approx(15, rel=0.25)
    assert lm.pacer.held_back > 0  # requests waited for the bucket rather than being refused
    assert lm.limit.lowest == 12  # so concurrency never had to come down


def test_without_rate_limit_headers_a_429_halves_the_requests_in_flight(server):
    server.fail_next("429", times=2)
    lm = lm_for(server, max_concurrency=8, max_retries=3)
    lm.complete(Request(messages=[("user", "q")]))
    assert not lm.pacer.knows_limits
    assert lm.limit.lowest < 8


def test_the_limit_halves_on_throttling_and_creeps_back_up():
    limit = AdaptiveLimit(8, cooldown=0.0)
    limit.throttled()
    limit.throttled()
    assert limit.limit == 2.0
    for _ in range(40):
        limit.succeeded()
    assert limit.limit == 8.0


def test_requests_beyond_the_limit_wait_their_turn():
    limit = AdaptiveLimit(2)
    peak, inside, lock = 0, 0, threading.Lock()

    def work():
        nonlocal peak, inside
        with limit.slot():
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.02)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2


def test_the_loopback_server_reports_a_marked_prefix_as_written_then_read():
    long_rules = "Rule: be exact. " * 600  # ~2,400 tokens: above the default cacheable minimum
    with MessagesServer(lambda request: "ok") as server:
        lm = AnthropicLM(model="claude-sonnet-5-5", base_url=server.base_url, api_key="test")
        first, second = (
            lm.complete(Request(messages=[("user", question)], system=long_rules, shared_prefix=-1))
            for question in ("one?", "two?")
        )
    assert first.usage.cache_write_tokens > 2000 and first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens and second.usage.cache_write_tokens == 0
    assert second.usage.input_tokens < 10


def test_under_an_output_token_limit_max_tokens_is_paced_up_front():
    with MessagesServer(echo, output_tokens_per_second=2000) as server:
        lm = lm_for(server, max_concurrency=8, max_retries=6)
        requests = [Request(messages=[("user", f"q{i}")], max_tokens=200) for i in range(40)]  # 8,000 tokens: ~3 s
        results = run_all(lm, requests, progress=False)
    assert not [r for r in results if isinstance(r, Failure)]
    assert lm.pacer.rate("output-tokens") == pytest.approx(2000, rel=0.25)
    assert lm.pacer.held_back > 0
