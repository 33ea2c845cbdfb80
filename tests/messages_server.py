"""A loopback server that speaks just enough of the Anthropic Messages API for end-to-end tests.

It answers POST /v1/messages from a function of the request, so the real SDK, HTTP and
the CLI are all exercised. (The reliability issue grows this into a fault-injecting server.)
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs

from promptgraph.lm import Request
from promptgraph.lm.scripted import count_tokens


def request_from_body(body: dict) -> Request:
    system = body.get("system", "")
    if isinstance(system, list):
        system = "".join(block.get("text", "") for block in system)
    return Request(
        messages=[
            (
                m["role"],
                m["content"] if isinstance(m["content"], str) else "".join(b.get("text", "") for b in m["content"]),
            )
            for m in body["messages"]
        ],
        system=system,
        model=body["model"],
        max_tokens=body["max_tokens"],
        stop_sequences=body.get("stop_sequences", ()),
    )


@contextlib.contextmanager
def serve(respond: Callable[[Request], str]) -> Iterator[str]:
    """Yield the base URL of a server answering with `respond(request)`; stop it afterwards."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  # the name http.server calls
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            request = request_from_body(body)
            # The scripted world tells critic from rewriter by tag; over HTTP, by the system prompt.
            tag = (
                "critic"
                if "critic in a loop" in request.system
                else "rewrite"
                if "improve the prompt texts" in request.system
                else "forward"
            )
            text = respond(attrs.evolve(request, tag=tag))
            prompt = request.system + "".join(m.content for m in request.messages)
            payload = {
                "id": "msg_loopback",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": count_tokens(prompt), "output_tokens": count_tokens(text)},
            }
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
