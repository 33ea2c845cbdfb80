"""AdaptiveLimit: how many requests may be in flight, adapting to the provider's limits.

Additive increase, multiplicative decrease, as TCP does: every success lets the limit creep
up by 1/limit (about +1 per round of requests), and a rate-limit or overload answer halves
it (at most once per `cooldown`, so one burst of 429s counts once). Requests beyond the
limit wait their turn instead of being sent to fail.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

import attrs

logger = logging.getLogger(__name__)


@attrs.define
class AdaptiveLimit:
    maximum: int = attrs.field(validator=attrs.validators.ge(1))
    minimum: int = 1
    cooldown: float = 1.0
    limit: float = attrs.field(init=False)
    in_flight: int = attrs.field(default=0, init=False)
    lowest: float = attrs.field(init=False)  # the lowest the limit went: tests and logs read it
    _changed: threading.Condition = attrs.field(factory=threading.Condition, init=False, repr=False)
    _last_decrease: float = attrs.field(default=float("-inf"), init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.limit = self.lowest = float(self.maximum)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self._changed:
            while self.in_flight >= int(self.limit):
                self._changed.wait()
            self.in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def succeeded(self) -> None:
        with self._changed:
            self.limit = min(float(self.maximum), self.limit + 1 / self.limit)
            self._changed.notify_all()

    def throttled(self) -> None:
        with self._changed:
            now = time.monotonic()
            if now - self._last_decrease >= self.cooldown:
                self.limit = max(float(self.minimum), self.limit / 2)
                self.lowest = min(self.lowest, self.limit)
                self._last_decrease = now
                logger.info("the server is overloaded or limiting: at most %d requests in flight now", self.limit)
