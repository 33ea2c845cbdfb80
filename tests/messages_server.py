"""`serve(respond)`: the loopback Messages API server, yielding its base URL.

The caller tag (forward, critic, rewrite, ...) comes over HTTP in AnthropicLM's
`x-promptgraph-tag` header, so `respond` keys on `request.tag` as it does with a ScriptedLM.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from promptgraph.lm import Request
from promptgraph.testing import MessagesServer


@contextlib.contextmanager
def serve(respond: Callable[[Request], str], **options) -> Iterator[str]:
    with MessagesServer(respond, **options) as server:
        yield server.base_url
