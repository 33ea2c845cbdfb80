import datetime
import time

import pytest

from promptgraph.lm.pacer import Pacer


def headers(limit, remaining, full_in):
    reset = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=full_in)
    return {
        "anthropic-ratelimit-requests-limit": str(limit),
        "anthropic-ratelimit-requests-remaining": str(remaining),
        "anthropic-ratelimit-requests-reset": reset.isoformat().replace("+00:00", "Z"),
    }


def test_until_the_headers_tell_the_limit_nothing_is_held_back():
    pacer = Pacer()
    pacer.observe({"content-type": "application/json"})
    for _ in range(100):
        pacer.wait()
    assert pacer.rate is None and pacer.held_back == 0


def test_the_refill_rate_is_what_is_missing_over_the_time_until_full():
    pacer = Pacer()
    pacer.observe(headers(limit=100, remaining=40, full_in=3.0))
    assert pacer.rate == pytest.approx(20, rel=0.05)


def test_a_full_bucket_says_nothing_about_the_rate():
    pacer = Pacer()
    pacer.observe(headers(limit=100, remaining=100, full_in=0.0))
    assert pacer.rate is None


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
    assert pacer.tokens == 0
