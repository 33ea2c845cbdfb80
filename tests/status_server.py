"""`StatusServer(status)`: a loopback server that answers every Messages API request with one HTTP error.

The error body is the API's (`{"type": "error", "error": {...}}`); transient statuses say
`retry-after-ms: 1`, so the SDK's and promptgraph's retries take no time in tests.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs

from promptgraph.lm.anthropic import PROBE_HEADER

KINDS = {400: "invalid_request_error", 401: "authentication_error", 502: "api_error", 529: "overloaded_error"}


@attrs.define
class StatusServer:
    status: int
    requests: int = attrs.field(default=0, init=False)
    _server: ThreadingHTTPServer | None = attrs.field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StatusServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["content-length"]))
                if PROBE_HEADER in self.headers:  # promptgraph's pre-flight probe passes: the calls are what fail
                    return self._probe_answer()
                owner.requests += 1
                kind = KINDS.get(owner.status, "api_error")
                body = {"type": "error", "error": {"type": kind, "message": f"scripted {owner.status}"}}
                data = json.dumps(body).encode()
                self.send_response(owner.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("retry-after-ms", "1")
                self.send_header("retry-after", "0.001")
                self.end_headers()
                self.wfile.write(data)

            def _probe_answer(self) -> None:
                message = {
                    "id": "msg_probe", "type": "message", "role": "assistant", "model": "probe",
                    "content": [{"type": "text", "text": "OK"}], "stop_reason": "max_tokens", "stop_sequence": None,
                    "usage": {"input_tokens": 3, "output_tokens": 1},
                }  # fmt: skip
                data = json.dumps(message).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
