import datetime
import logging

import attrs
import pytest

from promptgraph.lm.pacer import Pacer

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@attrs.define
class FakeClock:
    """Time that passes only when the pacer sleeps: what a test checks is how long it chose to wait."""

    now: float = 0.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> datetime.datetime:
        return START + datetime.timedelta(seconds=self.now)

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def headers(limit, remaining, full_in, kind="requests"):
    reset = START + datetime.timedelta(seconds=full_in)
    return {
        f"anthropic-ratelimit-{kind}-limit": str(limit),
        f"anthropic-ratelimit-{kind}-remaining": str(remaining),
        f"anthropic-ratelimit-{kind}-reset": reset.isoformat().replace("+00:00", "Z"),
    }


@pytest.fixture
def clock():
    return FakeClock()


def test_until_the_headers_tell_the_limit_nothing_is_held_back(clock):
    pacer = Pacer(clock=clock)
    pacer.observe({"content-type": "application/json"})
    for _ in range(100):
        pacer.wait()
    assert not pacer.knows_limits and pacer.held_back == 0 and clock.now == 0


def test_the_refill_rate_is_what_is_missing_over_the_time_until_full(clock):
    pacer = Pacer(clock=clock)
    pacer.observe(headers(limit=100, remaining=40, full_in=3.0))
    assert pacer.rate() == pytest.approx(20)


def test_a_reset_time_with_a_fraction_of_any_length_is_read(clock):
    # RFC 3339 allows any number of digits; Python 3.10's fromisoformat reads only 3 or 6.
    pacer = Pacer(clock=clock)
    pacer.observe(
        {
            "anthropic-ratelimit-requests-limit": "100",
            "anthropic-ratelimit-requests-remaining": "40",
            "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:03.00Z",
        }
    )
    assert pacer.rate() == pytest.approx(20)


def test_a_full_bucket_says_nothing_about_the_rate(clock):
    pacer = Pacer(clock=clock)
    pacer.observe(headers(limit=100, remaining=100, full_in=0.0))
    assert pacer.rate() is None


def test_with_room_in_the_bucket_requests_go_at_once(clock):
    pacer = Pacer(clock=clock)
    pacer.observe(headers(limit=100, remaining=50, full_in=2.5))
    for _ in range(40):
        pacer.wait()
    assert clock.now == 0 and pacer.held_back == 0


def test_an_empty_bucket_spaces_requests_at_the_refill_rate(clock):
    pacer = Pacer(reserve=0.0, clock=clock)
    pacer.observe(headers(limit=10, remaining=0, full_in=0.5))  # 20 requests per second
    for _ in range(5):
        pacer.wait()
    assert clock.now == pytest.approx(5 / 20)
    assert pacer.held_back == 5


def test_a_429_empties_our_copy_of_the_bucket(clock):
    pacer = Pacer(clock=clock)
    pacer.observe(headers(limit=10, remaining=9, full_in=0.1))
    pacer.refused()
    assert pacer.buckets["requests"].level == 0


def test_the_output_token_limit_counts_max_tokens_and_holds_back_big_requests(clock):
    pacer = Pacer(reserve=0.0, clock=clock)
    pacer.observe(headers(limit=2000, remaining=900, full_in=0.55, kind="output-tokens"))  # 2,000 tokens per second
    pacer.wait({"requests": 1, "output-tokens": 500})  # fits: 900 left
    assert clock.now == 0
    pacer.wait({"requests": 1, "output-tokens": 500})  # 400 left: waits for 100 more
    assert clock.now == pytest.approx(0.05)
    assert pacer.held_back == 1


def test_the_tightest_limit_decides(clock):
    pacer = Pacer(reserve=0.0, clock=clock)
    pacer.observe(headers(limit=100, remaining=50, full_in=0.5))  # plenty of requests
    pacer.observe(headers(limit=1000, remaining=0, full_in=0.1, kind="output-tokens"))  # 10,000 tokens/s, empty
    pacer.wait({"requests": 1, "output-tokens": 1000})
    assert clock.now == pytest.approx(0.1)


def test_a_request_larger_than_half_the_bucket_still_waits_for_room(clock):
    pacer = Pacer(clock=clock)
    pacer.observe(headers(limit=1000, remaining=0, full_in=0.1, kind="output-tokens"))  # 10,000 tokens/s
    pacer.wait({"output-tokens": 600})
    assert clock.now == pytest.approx(0.1)  # until the bucket is full, not at once


def test_a_request_held_back_is_logged_at_debug_with_the_limit_that_held_it(clock, caplog):
    pacer = Pacer(reserve=0.0, clock=clock)
    pacer.observe(headers(limit=1000, remaining=0, full_in=0.1, kind="output-tokens"))
    with caplog.at_level(logging.DEBUG, logger="promptgraph.lm.pacer"):
        pacer.wait({"requests": 1, "output-tokens": 1000})
    held = [record.getMessage() for record in caplog.records]
    assert held and all("output-tokens" in line for line in held), held
