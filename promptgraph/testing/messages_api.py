"""A loopback server that speaks the Anthropic Messages API, for tests: replies from a script, faults on demand.

The real `anthropic` SDK talks to it through `base_url`, so tests exercise the whole
client path: SDK, HTTP, retries. It answers POST /v1/messages with the real response
shape, usage fields and `anthropic-ratelimit-*` headers, and it can be told to fail:

    with MessagesServer(lambda request: "Label: <label>sincere</label>") as server:
        server.fail_next("429", times=2)         # 429 with retry-after, twice
        lm = AnthropicLM(base_url=server.base_url, api_key="test")

Faults: "429" (rate limited, with retry-after), "529" (overloaded), "500", "slow" (sleeps
past the client's timeout), "drop" (closes the connection without a reply), "truncate"
(promises more bytes than it sends) and "max_tokens" (a normal reply cut short). A
`requests_per_second` limit answers 429 to whatever exceeds it, as the real API does.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs

from promptgraph.lm import Request
from promptgraph.lm.scripted import count_tokens

FAULTS = ("429", "529", "500", "slow", "drop", "truncate", "max_tokens")


def request_from_body(body: dict) -> Request:
    def text(content) -> str:
        return content if isinstance(content, str) else "".join(block.get("text", "") for block in content)

    return Request(
        messages=[(message["role"], text(message["content"])) for message in body["messages"]],
        system=text(body.get("system", "")),
        model=body["model"],
        max_tokens=body["max_tokens"],
        stop_sequences=body.get("stop_sequences", ()),
        temperature=body.get("temperature"),
    )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away mid-reply (a fault, a killed test process) is expected here


@attrs.define
class MessagesServer:
    respond: Callable[[Request], str]
    requests_per_second: float | None = None  # None: no rate limit
    latency: float = 0.0  # seconds each reply takes, like a model generating
    slow_seconds: float = 5.0  # how long a "slow" fault sleeps
    seen: list[Request] = attrs.field(factory=list, init=False)  # every request answered or failed, in order
    statuses: collections.Counter = attrs.field(factory=collections.Counter, init=False)
    _faults: collections.deque = attrs.field(factory=collections.deque, init=False, repr=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)
    _window: collections.deque = attrs.field(factory=collections.deque, init=False, repr=False)
    _server: ThreadingHTTPServer | None = attrs.field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, fault: str, times: int = 1) -> None:
        """The next `times` requests get `fault` instead of a reply."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")
        with self._lock:
            self._faults.extend([fault] * times)

    def start(self) -> MessagesServer:
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> MessagesServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _next_fault(self) -> str | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            if self.requests_per_second is None:
                return None
            now = time.monotonic()
            while self._window and now - self._window[0] > 1.0:
                self._window.popleft()
            if len(self._window) >= self.requests_per_second:
                return "rate"
            self._window.append(now)
            return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802  # the name http.server calls
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                request = request_from_body(body)
                fault = server._next_fault()
                with server._lock:
                    server.seen.append(request)
                    server.statuses[fault or "ok"] += 1
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)  # no reply at all: the client sees a broken connection
                    return
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                if fault in ("429", "rate"):
                    return self._error(
                        429,
                        "rate_limit_error",
                        "Number of requests has exceeded your rate limit",
                        retry_after="1" if fault == "rate" else "0.05",
                    )
                if fault == "529":
                    return self._error(529, "overloaded_error", "Overloaded")
                if fault == "500":
                    return self._error(500, "api_error", "Internal server error")
                if server.latency:
                    time.sleep(server.latency)
                text = server.respond(request)
                stop_reason = "end_turn"
                if fault == "max_tokens":
                    text, stop_reason = text[: max(1, len(text) // 3)], "max_tokens"
                prompt = request.system + "".join(message.content for message in request.messages)
                payload = {
                    "id": f"msg_{len(server.seen):06d}",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": stop_reason,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": count_tokens(prompt),
                        "output_tokens": count_tokens(text),
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                }
                data = json.dumps(payload).encode()
                self.send_response(200)
                self._common_headers(len(data) + (100 if fault == "truncate" else 0))
                self.end_headers()
                self.wfile.write(data)
                if fault == "truncate":
                    self.close_connection = True

            def _error(self, status: int, kind: str, message: str, retry_after: str | None = None) -> None:
                data = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("retry-after", retry_after)
                self._common_headers(len(data))
                self.end_headers()
                self.wfile.write(data)

            def _common_headers(self, length: int) -> None:
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(length))
                self.send_header("request-id", f"req_{len(server.seen):06d}")
                if server.requests_per_second is not None:  # this server's window is one second, not a minute
                    self.send_header("anthropic-ratelimit-requests-limit", str(int(server.requests_per_second)))
                    self.send_header(
                        "anthropic-ratelimit-requests-remaining",
                        str(max(0, int(server.requests_per_second) - len(server._window))),
                    )

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        return Handler
