"""Pacer: send requests no faster than the provider's rate limit refills.

The Messages API limits requests with a token bucket and reports it on every response:
`anthropic-ratelimit-requests-limit` (the bucket's size), `-remaining` (what is left now)
and `-reset` (when it will be full again). From the last two the refill rate follows:
(limit - remaining) / (reset - now). The Pacer keeps its own copy of the bucket, set from
each response and drawn down by each request sent, and holds a request back only when the
bucket is nearly empty, for just as long as the bucket needs to refill one request.

So a run goes at full speed while the bucket has room, then settles at the refill rate,
instead of running into 429s, waiting out their retry-after and halving its concurrency.
Until a response has told it the limits, the Pacer lets everything through.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Mapping

import attrs

PREFIX = "anthropic-ratelimit-requests-"
SMOOTHING = 0.2  # weight of the newest refill-rate estimate; the headers' timing is noisy


@attrs.define
class Pacer:
    reserve: float = 1.0  # requests kept in hand for those already on the wire, which the server has not counted yet
    rate: float | None = attrs.field(default=None, init=False)  # requests per second the bucket refills at
    capacity: float = attrs.field(default=0.0, init=False)
    tokens: float = attrs.field(default=0.0, init=False)
    held_back: int = attrs.field(default=0, init=False)  # requests that waited: tests and benchmarks read it
    _updated: float = attrs.field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the bucket's state from a response's headers; responses without them change nothing."""
        try:
            limit = float(headers[PREFIX + "limit"])
            remaining = float(headers[PREFIX + "remaining"])
            reset = _parse_time(headers[PREFIX + "reset"])
        except (KeyError, ValueError):
            return
        full_in = (reset - datetime.datetime.now(datetime.UTC)).total_seconds()
        with self._lock:
            if remaining < limit and full_in > 0:
                estimate = (limit - remaining) / full_in
                self.rate = estimate if self.rate is None else (1 - SMOOTHING) * self.rate + SMOOTHING * estimate
            self.capacity, self.tokens, self._updated = limit, remaining, time.monotonic()

    def refused(self) -> None:
        """A 429: the bucket is empty, whatever our copy says."""
        with self._lock:
            self.tokens, self._updated = 0.0, time.monotonic()

    def wait(self) -> None:
        """Return when one more request fits the rate limit, taking it from the bucket."""
        waited = False
        while True:
            with self._lock:
                if self.rate is None:
                    return
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self.tokens >= 1 + self.reserve or self.capacity < 1 + self.reserve:
                    self.tokens -= 1
                    self.held_back += waited
                    return
                delay = (1 + self.reserve - self.tokens) / self.rate
            waited = True
            time.sleep(delay)


def _parse_time(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
