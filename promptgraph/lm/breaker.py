"""A circuit breaker: stop calling a server that keeps refusing, with one clear message.

Retries ride out a short outage. A server that refuses everything (over a spend limit,
overloaded for an hour, not there at all) would otherwise be retried call after call for
minutes, each call failing the same way. After `limit` failures in a row, with no success
in between, the breaker opens for good: every later call raises TooManyFailures at once,
without a request, and the run ends with that one message.
"""

from __future__ import annotations

import logging
import threading

import attrs

from promptgraph.errors import PromptgraphError
from promptgraph.lm.base import LMError

# Refusals by the server, not faults of one request: a 400 says nothing about the next call.
REFUSAL_STATUSES = (429, 529)

logger = logging.getLogger(__name__)


class TooManyFailures(PromptgraphError):
    """The LM stopped calling its server after too many failures in a row.

    Not an LMError on purpose: a batch records an LMError as one failed example and goes
    on; this must end the run.
    """


@attrs.define
class CircuitBreaker:
    limit: int = attrs.field(validator=attrs.validators.ge(1))
    _in_a_row: int = attrs.field(default=0, init=False)
    _reason: str | None = attrs.field(default=None, init=False)  # set once open; never closes again
    _opened: threading.Event = attrs.field(factory=threading.Event, init=False, repr=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    @property
    def open(self) -> bool:
        return self._reason is not None

    def check(self) -> None:
        """Raise TooManyFailures if the breaker has opened."""
        if self._reason is not None:
            logger.debug("refused, not sent: the circuit breaker is open")
            raise self.stopped()

    def stopped(self) -> TooManyFailures:
        """A fresh exception for each caller (threads must not share one traceback)."""
        return TooManyFailures(self._reason)

    def pause(self, seconds: float) -> None:
        """Wait before a retry, cut short if the breaker opens meanwhile: a stopped run must not linger."""
        self._opened.wait(seconds)

    def succeeded(self) -> None:
        with self._lock:
            self._in_a_row = 0

    def failed(self, error: LMError, server: str) -> None:
        """Count a failure the server caused (an outage, a refusal); the request's own faults do not count."""
        if not (error.transient or error.status in REFUSAL_STATUSES):
            return
        with self._lock:
            self._in_a_row += 1
            if self._in_a_row >= self.limit and self._reason is None:
                self._reason = (
                    f"stopped calling {server}: {self._in_a_row} requests in a row failed even after retries, "
                    f"so it is refusing or down. Last error: {error}. Try again later; to be more patient, raise "
                    "--max-consecutive-failures (in Python, on the LM: AnthropicLM(max_consecutive_failures=...))"
                )
                self._opened.set()
                logger.warning("%s", self._reason)
