import datetime
import time

import pytest

from promptgraph.lm.pacer import Pacer


def headers(limit, remaining, full_in, kind="requests"):
    reset = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=full_in)
    return {
        f"anthropic-ratelimit-{kind}-limit": str(limit),
        f"anthropic-ratelimit-{kind}-remaining": str(remaining),
        f"anthropic-ratelimit-{kind}-reset": reset.isoformat().replace("+00:00", "Z"),
    }


def test_until_the_headers_tell_the_limit_nothing_is_held_back():
    pacer = Pacer()
    pacer.observe({"content-type": "application/json"})
    for _ in range(100):
        pacer.wait()
    assert not pacer.knows_limits and pacer.held_back == 0


def test_the_refill_rate_is_what_is_missing_over_the_time_until_full():
    pacer = Pacer()
    pacer.observe(headers(limit=100, remaining=40, full_in=3.0))
    assert pacer.rate() == pytest.approx(20, rel=0.05)


def test_a_full_bucket_says_nothing_about_the_rate():
    pacer = Pacer()
    pacer.observe(headers(limit=100, remaining=100, full_in=0.0))
    assert pacer.rate() is None


def test_with_room_in_the_bucket_requests_go_at_once():
    pacer = Pacer()
    pacer.observe(headers(limit=100, remaining=50, full_in=2.5))
    started = time.monotonic()
    for _ in range(40):
        pacer.wait()
    assert time.monotonic() - started < 0.1 and pacer.held_back == 0


def test_an_empty_bucket_spaces_requests_at_the_refill_rate():
    pacer = Pacer(reserve=0.0)
    pacer.observe(headers(limit=10, remaining=0, full_in=0.5))  # 20 requests per second
    started = time.monotonic()
    for _ in range(5):
        pacer.wait()
    assert time.monotonic() - started == pytest.approx(5 / 20, abs=0.05)
    assert pacer.held_back == 5


def test_a_429_empties_our_copy_of_the_bucket():
    pacer = Pacer()
    pacer.observe(headers(limit=10, remaining=9, full_in=0.1))
    pacer.refused()
    assert pacer.buckets["requests"].level == 0


def test_the_output_token_limit_counts_max_tokens_and_holds_back_big_requests():
    pacer = Pacer(reserve=0.0)
    pacer.observe(headers(limit=2000, remaining=900, full_in=0.55, kind="output-tokens"))  # ~2,000 tokens per second
    started = time.monotonic()
    pacer.wait({"requests": 1, "output-tokens": 500})  # fits: 900 left
    pacer.wait({"requests": 1, "output-tokens": 500})  # 400 left: waits for ~100 more
    assert time.monotonic() - started == pytest.approx(0.05, abs=0.04)
    assert pacer.held_back == 1


def test_the_tightest_limit_decides():
    pacer = Pacer(reserve=0.0)
    pacer.observe(headers(limit=100, remaining=50, full_in=0.5))  # plenty of requests
    pacer.observe(headers(limit=1000, remaining=0, full_in=0.1, kind="output-tokens"))  # 10,000 tokens/s, empty
    started = time.monotonic()
    pacer.wait({"requests": 1, "output-tokens": 1000})
    assert time.monotonic() - started == pytest.approx(0.1, abs=0.05)


def test_a_request_larger_than_half_the_bucket_still_waits_for_room():
    pacer = Pacer()
    pacer.observe(headers(limit=1000, remaining=0, full_in=0.1, kind="output-tokens"))  # 10,000 tokens/s
    started = time.monotonic()
    pacer.wait({"output-tokens": 600})
    assert time.monotonic() - started == pytest.approx(0.1, abs=0.05)  # until the bucket is full, not at once


def test_the_pacer_reads_the_headers_on_python_3_10_which_has_no_datetime_utc(monkeypatch):
    made = headers(limit=100, remaining=40, full_in=3.0)
    monkeypatch.delattr(datetime, "UTC", raising=False)  # added in 3.11; the package supports 3.10
    pacer = Pacer()
    pacer.observe(made)
    assert pacer.rate() == pytest.approx(20, rel=0.05)
