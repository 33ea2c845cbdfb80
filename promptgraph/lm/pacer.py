"""Pacer: send requests no faster than the provider's rate limits refill.

The Messages API limits requests, input tokens and output tokens per minute with token
buckets, and reports each on every response: `anthropic-ratelimit-<kind>-limit` (the
bucket's size), `-remaining` (what is left now) and `-reset` (when it will be full again).
From the last two the refill rate follows: (limit - remaining) / (reset - now). The Pacer
keeps its own copy of each bucket, set from every response and drawn down by every
request sent (one request; its prompt's tokens; its `max_tokens`, which the API counts
against the output limit up front), and holds a request back only while some bucket is
nearly empty, for just as long as that bucket needs to refill.

So a run goes at full speed while the buckets have room, then settles at the rate the
tightest one refills, instead of running into 429s, waiting out their retry-after and
halving its concurrency. Until a response has told it a limit, the Pacer lets everything
through.
"""

from __future__ import annotations

import datetime
import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import Protocol

import attrs

logger = logging.getLogger(__name__)

KINDS = ("requests", "tokens", "input-tokens", "output-tokens")
SMOOTHING = 0.2  # weight of the newest refill-rate estimate; the headers' timing is noisy
MIN_DEFICIT = 0.02  # share of a bucket that must be missing before its refill rate is estimated


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def wall(self) -> datetime.datetime: ...
    def sleep(self, seconds: float) -> None: ...


@attrs.frozen
class SystemClock:
    """The machine's clocks: seconds for pacing, UTC for the headers' reset times."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.timezone.utc)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@attrs.define
class Bucket:
    capacity: float
    level: float
    updated: float
    rate: float | None = None  # units per second it refills at; None until a response shows it below full

    def refill(self, now: float) -> None:
        if self.rate is not None:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now


@attrs.define
class Pacer:
    # A request waits until a bucket holds its cost and as much again in reserve: the
    # server has not yet counted the requests already on their way to it.
    reserve: float = 1.0
    # Tests pass a fake clock, so what they check does not depend on the machine's speed.
    clock: Clock = attrs.field(factory=SystemClock, repr=False)
    buckets: dict[str, Bucket] = attrs.field(factory=dict, init=False)
    held_back: int = attrs.field(default=0, init=False)  # requests that waited: tests and benchmarks read it
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    @property
    def knows_limits(self) -> bool:
        return any(bucket.rate is not None for bucket in self.buckets.values())

    def rate(self, kind: str = "requests") -> float | None:
        bucket = self.buckets.get(kind)
        return bucket.rate if bucket else None

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take each bucket's state from a response's headers; responses without them change nothing."""
        now, wall = self.clock.monotonic(), self.clock.wall()
        for kind in KINDS:
            prefix = f"anthropic-ratelimit-{kind}-"
            try:
                limit = float(headers[prefix + "limit"])
                remaining = float(headers[prefix + "remaining"])
                full_in = (_parse_time(headers[prefix + "reset"]) - wall).total_seconds()
            except (KeyError, ValueError):
                continue
            with self._lock:
                bucket = self.buckets.setdefault(kind, Bucket(limit, remaining, now))
                # A deficit of a unit or two is mostly rounding (remaining is a whole number): no rate in it.
                if limit - remaining >= max(2.0, MIN_DEFICIT * limit) and full_in > 0:
                    estimate = (limit - remaining) / full_in
                    bucket.rate = (
                        estimate if bucket.rate is None else (1 - SMOOTHING) * bucket.rate + SMOOTHING * estimate
                    )
                bucket.capacity, bucket.level, bucket.updated = limit, remaining, now

    def refused(self) -> None:
        """A 429 does not say which limit it hit: treat every bucket as empty."""
        with self._lock:
            for bucket in self.buckets.values():
                bucket.level, bucket.updated = 0.0, self.clock.monotonic()

    def wait(self, costs: Mapping[str, float] | None = None) -> None:
        """Return when a request of these costs fits every known limit, taking them from the buckets."""
        costs = {"requests": 1.0} if costs is None else costs
        waited = False
        while True:
            with self._lock:
                now = self.clock.monotonic()
                delay, tightest = 0.0, None
                for kind, cost in costs.items():
                    bucket = self.buckets.get(kind)
                    if bucket is None or bucket.rate is None:
                        continue
                    bucket.refill(now)
                    if cost > bucket.capacity:  # it can never fit: send it and let the server decide
                        continue
                    needed = min(cost * (1 + self.reserve), bucket.capacity)
                    refill_time = max(0.0, needed - bucket.level) / bucket.rate
                    if refill_time > delay:
                        delay, tightest = refill_time, kind
                if delay == 0.0:
                    for kind, cost in costs.items():
                        if kind in self.buckets:
                            self.buckets[kind].level -= cost
                    self.held_back += waited
                    return
            waited = True
            logger.debug("held back %.3fs until the %s limit's bucket refills", delay, tightest)
            self.clock.sleep(delay)


def _parse_time(text: str) -> datetime.datetime:
    # Python 3.10's fromisoformat reads neither "Z" nor a fraction of other than 3 or 6 digits; RFC 3339 allows both.
    text = re.sub(r"\.(\d+)", lambda fraction: "." + fraction[1][:6].ljust(6, "0"), text.replace("Z", "+00:00"))
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)
