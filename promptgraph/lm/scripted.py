"""A deterministic LM for tests, docs and demos: no network, no key, no randomness.

Its replies come from a function of the request or from a queue, and it behaves like
a real model where that matters to callers: it stops at a stop sequence, stops at
`max_tokens` (roughly counted), and reports token usage.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable

import attrs

from promptgraph.lm.base import LMError, Request, Response, Usage
from promptgraph.lm.reprs import settings
from promptgraph.lm.tokens import CHARS_PER_TOKEN, count_tokens


@attrs.define
class ScriptedLM:
    """`respond(request)` returns the reply text (or a whole Response); else `replies` are used in order."""

    respond: Callable[[Request], str | Response] | None = None
    replies: Iterable[str] = ()
    model: str = "scripted"
    max_concurrency: int = 8
    delay: float = 0.0  # seconds per call, to make concurrency observable
    requests: list[Request] = attrs.field(factory=list, init=False)
    _queue: collections.deque[str] = attrs.field(init=False, repr=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def __repr__(self) -> str:
        return settings(self, always=("model",))  # not every request it was sent

    def __attrs_post_init__(self) -> None:
        self._queue = collections.deque(self.replies)

    @property
    def backend(self) -> str:
        return "scripted"

    def complete(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            queued = self._queue.popleft() if self.respond is None and self._queue else None
            seen = len(self.requests)
        if self.delay:
            time.sleep(self.delay)
        if self.respond is not None:
            reply = self.respond(request)
            if isinstance(reply, Response):
                return reply
        elif queued is not None:
            reply = queued
        else:
            raise LMError(
                f"ScriptedLM ran out of replies at request {seen}; give it more replies or a respond function",
                model=self.model,
            )
        return self._shape(request, reply)

    def _shape(self, request: Request, reply: str) -> Response:
        text, stop_reason = reply, "end_turn"
        stops = [(text.find(stop), stop) for stop in request.stop_sequences if stop in text]
        if stops:
            text, stop_reason = text[: min(stops)[0]], "stop_sequence"
        if count_tokens(text) > request.max_tokens:
            text, stop_reason = text[: request.max_tokens * CHARS_PER_TOKEN], "max_tokens"
        prompt = request.system + "".join(message.content for message in request.messages)
        usage = Usage(input_tokens=count_tokens(prompt), output_tokens=count_tokens(text))
        return Response(text=text, stop_reason=stop_reason, usage=usage, model=request.model or self.model)
