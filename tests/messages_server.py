"""`serve(respond)`: the loopback Messages API server, with the caller tag the scripted worlds expect.

Over HTTP the tag (forward, critic, rewrite) is not sent, so it is told from the system prompt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import attrs

from promptgraph.lm import Request
from promptgraph.testing import MessagesServer


def tagged(respond: Callable[[Request], str]) -> Callable[[Request], str]:
    def answer(request: Request) -> str:
        system = request.system
        tag = (
            "critic"
            if "critic in a loop" in system
            else "rewrite"
            if "improve the prompt texts" in system
            else "forward"
        )
        return respond(attrs.evolve(request, tag=tag))

    return answer


@contextlib.contextmanager
def serve(respond: Callable[[Request], str], **options) -> Iterator[str]:
    with MessagesServer(tagged(respond), **options) as server:
        yield server.base_url
