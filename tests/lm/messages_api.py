"""A Messages API stand-in for the real SDK: an httpx2 MockTransport and reply bodies."""

from __future__ import annotations

import json
import threading

import anthropic
import httpx2


def message_body(text="ok", *, model="claude-haiku-5-5", stop_reason="end_turn", usage=None, content=None):
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content if content is not None else [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 10, "output_tokens": 5},
    }


class RecordingTransport:
    """Answers with `reply(request_body, call_number)` and keeps every request body it saw."""

    def __init__(self, reply):
        self.reply = reply
        self.bodies: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        with self._lock:
            self.bodies.append(body)
            number = len(self.bodies)
        return self.reply(body, number)

    def http_client(self) -> httpx2.Client:
        return anthropic.DefaultHttpxClient(transport=httpx2.MockTransport(self))


def ok(body=None, **kwargs) -> httpx2.Response:
    return httpx2.Response(200, json=body or message_body(**kwargs))
