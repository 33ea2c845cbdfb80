"""A loopback server that speaks the Anthropic Messages API, for tests: replies from a script, faults on demand.

The real `anthropic` SDK talks to it through `base_url`, so tests exercise the whole
client path: SDK, HTTP, retries. It answers POST /v1/messages with the real response
shape, usage fields and `anthropic-ratelimit-*` headers, and it can be told to fail:

    with MessagesServer(lambda request: "Label: <label>sincere</label>") as server:
        server.fail_next("429", times=2)         # 429 with retry-after, twice
        lm = AnthropicLM(base_url=server.base_url, api_key="test")

Faults: "429" (rate limited, with retry-after), "529" (overloaded), "500", "502", "401",
"400", "slow" (sleeps past the client's timeout), "drop" (closes the connection without a
reply), "truncate" (promises more bytes than it sends) and "max_tokens" (a normal reply cut
short). "429_no_retry" is a 429 with `x-should-retry: false`, as the API sends when a spend
limit is reached. Some faults are 200 replies of the wrong shape: "bad_json" (a body cut
mid-JSON, its length honest), "error_body" (an error object), "not_message" (`{"hello": 1}`),
"json_list" (a JSON list), "no_usage" (a message without `usage`), "negative_usage" and
"huge_usage" (usage numbers no call can have). `fail_always(fault)` makes every request fail
until `recover()`. promptgraph's pre-flight probe (marked by a header) is answered "OK"
without the script, counted in `probes` rather than `seen`, and meets only `fail_always`
faults, so scripts and fault queues see the run's own calls only. A
`requests_per_second` limit is a token bucket, as the real API's is: it holds one second's
worth of requests, refills continuously, answers 429 when empty, and reports its state in
`anthropic-ratelimit-requests-{limit,remaining,reset}` headers (per second here, not per
minute). `output_tokens_per_second` adds the output-token bucket, which, like the API's,
counts each request's `max_tokens` up front.
`refuses` names body fields a server without them answers 400 to (e.g. "output_config.format"),
and `thinking_tokens` ({effort: tokens}) makes replies spend thinking tokens, reported as output.
A prefix marked `cache_control` is counted as cache-write tokens the first time and as
cache-read tokens after, so prompt caching shows in the usage, as from the real API.

Each request's tag (forward, critic, rewrite, ...: what it is) comes in the `x-promptgraph-tag`
header AnthropicLM sends, so the Request the script gets carries it, as a ScriptedLM's does;
a script can key on `request.tag` instead of on a prompt's wording.

It also runs Message Batches (POST /v1/messages/batches, GET .../{id} and .../{id}/results):
a batch stays `in_progress` for `batch_seconds`, then every item is answered by the same
script, and `fail_batch_items(n)` makes the next n items come back errored. A batch item has
no headers: its tag comes in its `custom_id` (promptgraph.lm.batch_ids), so a batched critic
call reaches the script as `critic`, as it does unbatched; an id without one has the default
tag ("call"). An id the API would refuse (not `[a-zA-Z0-9_-]{1,64}`) is refused with a 400.
"""

from __future__ import annotations

import collections
import datetime
import json
import math
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs

from promptgraph.lm import Request
from promptgraph.lm.anthropic import PROBE_HEADER, TAG_HEADER
from promptgraph.lm.batch_ids import item_tag
from promptgraph.lm.tokens import count_tokens

STATUS_FAULTS = {
    "529": (529, "overloaded_error", "Overloaded"),
    "500": (500, "api_error", "Internal server error"),
    "502": (502, "api_error", "Bad gateway"),
    "401": (401, "authentication_error", "invalid x-api-key"),
    "400": (400, "invalid_request_error", "messages: bad request"),
}
ODD_REPLIES = ("bad_json", "error_body", "not_message", "json_list", "no_usage", "negative_usage", "huge_usage")
FAULTS = ("429", "429_no_retry", *STATUS_FAULTS, "slow", "drop", "truncate", "max_tokens", *ODD_REPLIES)
BATCH_PATH = re.compile(r"/v1/messages/batches/([A-Za-z0-9_-]+)(/results)?")
MAX_BATCH_REQUESTS = 100_000
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # what the API accepts


def _text(content: str | list[dict]) -> str:
    return content if isinstance(content, str) else "".join(block.get("text", "") for block in content)


def request_from_body(body: dict, tag: str | None = None) -> Request:
    """The Request a body asks; `tag` from the TAG_HEADER or a batch item's id, else Request's default."""
    return Request(
        messages=[(message["role"], _text(message["content"])) for message in body["messages"]],
        system=_text(body.get("system", "")),
        model=body["model"],
        max_tokens=body["max_tokens"],
        stop_sequences=body.get("stop_sequences", ()),
        temperature=body.get("temperature"),
        output_schema=body.get("output_config", {}).get("format", {}).get("schema"),
        effort=body.get("output_config", {}).get("effort"),
        thinking=_thinking_setting(body.get("thinking")),
        **({"tag": tag} if tag is not None else {}),
    )


def _thinking_setting(thinking: dict | None) -> str | int | None:
    if thinking is None:
        return None
    return thinking.get("budget_tokens") if thinking.get("type") == "enabled" else thinking.get("type")


def refused_fields(body: dict, refuses: tuple[str, ...]) -> list[str]:
    """The fields of this body a server that does not take `refuses` would reject."""
    present = {name for name in ("thinking", "temperature", "top_p", "top_k") if name in body}
    present |= {f"output_config.{name}" for name in body.get("output_config", {})}
    if body.get("output_config"):
        present.add("output_config")
    return sorted(name for name in refuses if name in present)


def tag_from_headers(headers) -> str | None:
    value = headers.get(TAG_HEADER)
    return urllib.parse.unquote(value) if value is not None else None


class _QuietServer(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a client opening 50 connections at once would
    # see most of them refused and retried a second later.
    request_queue_size = 256

    def handle_error(self, request, client_address) -> None:
        pass  # a client that went away mid-reply (a fault, a killed test process) is expected here


@attrs.define
class MessagesServer:
    respond: Callable[[Request], str]
    requests_per_second: float | None = None  # None: no rate limit
    output_tokens_per_second: float | None = None  # None: no output-token limit
    latency: float = 0.0  # seconds each reply takes, like a model generating
    slow_seconds: float = 5.0  # how long a "slow" fault sleeps
    batch_seconds: float = 0.0  # how long a Message Batch stays in progress
    # Body fields answered with a 400 as a server without them does: "output_config.format"
    # (no structured outputs), "output_config.effort", "output_config" (all of it), "thinking".
    refuses: tuple[str, ...] = ()
    # Thinking tokens a reply spends at each effort ("low", ..., "max"; None: no effort sent),
    # reported as output tokens and shown as a thinking block before the answer, as models do.
    thinking_tokens: dict[str | None, int] = attrs.field(factory=dict)
    port: int = 0  # on 127.0.0.1; 0: any free port (see base_url)
    seen: list[Request] = attrs.field(factory=list, init=False)  # every request answered or failed, in order
    statuses: collections.Counter = attrs.field(factory=collections.Counter, init=False)  # "batched": batch items
    probes: collections.Counter = attrs.field(factory=collections.Counter, init=False)  # pre-flight probes, by fault
    batches: dict[str, _Batch] = attrs.field(factory=dict, init=False)
    _failing_batch_items: int = attrs.field(default=0, init=False, repr=False)
    _cached_prefixes: set[str] = attrs.field(factory=set, init=False, repr=False)
    _faults: collections.deque = attrs.field(factory=collections.deque, init=False, repr=False)
    _always: str | None = attrs.field(default=None, init=False, repr=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)
    _buckets: dict[str, _Bucket] = attrs.field(factory=dict, init=False, repr=False)
    _server: ThreadingHTTPServer | None = attrs.field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, fault: str, times: int = 1) -> None:
        """The next `times` requests get `fault` instead of a reply."""
        _check(fault)
        with self._lock:
            self._faults.extend([fault] * times)

    def fail_always(self, fault: str) -> None:
        """Every request from now on gets `fault` (after any `fail_next` ones), until `recover()`."""
        _check(fault)
        with self._lock:
            self._always = fault

    def recover(self) -> None:
        with self._lock:
            self._always = None

    def fail_batch_items(self, count: int) -> None:
        """The next `count` Message Batch items are answered `errored` instead of with a message."""
        with self._lock:
            self._failing_batch_items += count

    def start(self) -> MessagesServer:
        self._server = _QuietServer(("127.0.0.1", self.port), self._handler())
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

    def __attrs_post_init__(self) -> None:
        limits = {"requests": self.requests_per_second, "output-tokens": self.output_tokens_per_second}
        self._buckets = {kind: _Bucket(rate) for kind, rate in limits.items() if rate is not None}

    def _next_fault(self, max_tokens: int) -> str | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            if self._always is not None:
                return self._always
            costs = {"requests": 1, "output-tokens": max_tokens}
            if any(not bucket.has(costs[kind]) for kind, bucket in self._buckets.items()):
                return "rate"
            for kind, bucket in self._buckets.items():
                bucket.level -= costs[kind]
            return None

    def _refill_wait(self, max_tokens: int) -> str:
        """retry-after for a refused request: whole seconds until every bucket holds what it asked for, as the API says."""
        costs = {"requests": 1, "output-tokens": max_tokens}
        with self._lock:
            waits = [bucket.wait_for(costs[kind]) for kind, bucket in self._buckets.items()]
        return str(max(1, math.ceil(max(waits, default=0.0))))

    def _rate_limit_headers(self) -> dict[str, str]:
        """Each bucket's state now, as the API reports it: limit, remaining, and when it will be full again."""
        headers = {}
        with self._lock:
            for kind, bucket in self._buckets.items():
                bucket.refill()
                remaining = int(bucket.level)  # whole units, as the API reports them; reset agrees with them
                full_in = (bucket.rate - remaining) / bucket.rate
                reset = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=full_in)
                headers |= {
                    f"anthropic-ratelimit-{kind}-limit": str(max(1, round(bucket.rate))),
                    f"anthropic-ratelimit-{kind}-remaining": str(remaining),
                    f"anthropic-ratelimit-{kind}-reset": reset.isoformat(timespec="milliseconds").replace(
                        "+00:00", "Z"
                    ),
                }
        return headers

    def _message(
        self, body: dict, *, fault: str | None = None, text: str | None = None, tag: str | None = None
    ) -> dict:
        """A Messages API response body for the script's reply (or `text`) to a request, cut or with odd usage if told."""
        request = request_from_body(body, tag)
        text = self.respond(request) if text is None else text
        stop_reason = "end_turn"
        if fault == "max_tokens":
            text, stop_reason = text[: max(1, len(text) // 3)], "max_tokens"
        prompt = request.system + "".join(message.content for message in request.messages)
        written, read = self._prompt_cache(body)
        thinking = self.thinking_tokens.get(request.effort, 0) if request.thinking != "disabled" else 0
        message = {
            "id": f"msg_{len(self.seen):06d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": text}],  # a thinking block goes first, below
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": count_tokens(prompt) - written - read,
                "output_tokens": count_tokens(text) + thinking,
                "cache_creation_input_tokens": written,
                "cache_read_input_tokens": read,
            },
        }
        if thinking:
            message["content"].insert(0, {"type": "thinking", "thinking": "Hmm. " * thinking, "signature": "sig"})
        if fault == "no_usage":
            del message["usage"]
        if fault in ("negative_usage", "huge_usage"):
            value = -5 if fault == "negative_usage" else 10**15
            message["usage"] |= {"input_tokens": value, "output_tokens": value}
        return message

    def _reply_body(self, body: dict, fault: str | None, text: str | None = None, tag: str | None = None) -> bytes:
        """A 200 reply's body: the message, or for the odd-reply faults something not quite one."""
        if fault == "bad_json":
            whole = json.dumps(self._message(body, tag=tag))
            return whole[: len(whole) // 2].encode()
        if fault == "error_body":
            return json.dumps({"type": "error", "error": {"type": "api_error", "message": "Internal error"}}).encode()
        if fault == "not_message":
            return b'{"hello": 1}'
        if fault == "json_list":
            return b"[1, 2, 3]"
        return json.dumps(self._message(body, fault=fault, text=text, tag=tag)).encode()

    def _prompt_cache(self, body: dict) -> tuple[int, int]:
        """(tokens written, tokens read) for the prefix a `cache_control` marker ends, as the API's prompt cache does."""
        parts = [body.get("system", "")] + [message["content"] for message in body["messages"]]
        marked = [index for index, part in enumerate(parts) if isinstance(part, list) and "cache_control" in part[-1]]
        if not marked:
            return 0, 0
        prefix = parts[: marked[-1] + 1]
        tokens = count_tokens("".join(_text(part) for part in prefix))
        key = json.dumps([body["model"], prefix], sort_keys=True)
        with self._lock:
            if key in self._cached_prefixes:
                return 0, tokens
            self._cached_prefixes.add(key)
            return tokens, 0

    def _start_batch(self, items: list[dict]) -> _Batch:
        """Answer every item now, in a thread; the batch reports them only once `batch_seconds` have passed."""
        with self._lock:
            batch = _Batch(id=f"msgbatch_{len(self.batches) + 1:06d}", size=len(items), ready_at=time.monotonic())
            self.batches[batch.id] = batch
            failing, self._failing_batch_items = (
                min(self._failing_batch_items, len(items)),
                max(0, self._failing_batch_items - len(items)),
            )

        def answer_all() -> None:
            results = []
            for index, item in enumerate(items):
                if index < failing:
                    error = {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
                    results.append((item["custom_id"], {"type": "errored", "error": error}))
                    continue
                tag = item_tag(item["custom_id"])
                request = request_from_body(item["params"], tag)
                with self._lock:
                    self.seen.append(request)
                    self.statuses["batched"] += 1
                message = self._message(item["params"], tag=tag)
                results.append((item["custom_id"], {"type": "succeeded", "message": message}))
            batch.ready_at = time.monotonic() + self.batch_seconds  # first: `ended` reads results, then the time
            batch.results = results

        threading.Thread(target=answer_all, daemon=True).start()
        return batch

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle on, the client's delayed ACK
            # would hold every reply back by about 40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802  # the name http.server calls
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                if self.path.rstrip("/").endswith("/v1/messages/batches"):
                    return self._create_batch(body)
                refused = refused_fields(body, server.refuses)
                if refused:
                    with server._lock:
                        server.statuses["refused"] += 1
                    return self._error(400, "invalid_request_error", f"{refused[0]}: Extra inputs are not permitted")
                request = request_from_body(body, tag_from_headers(self.headers))
                probe = PROBE_HEADER in self.headers
                fault = server._always if probe else server._next_fault(request.max_tokens)
                with server._lock:
                    if probe:
                        server.probes[fault or "ok"] += 1
                    else:
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
                        retry_after=server._refill_wait(request.max_tokens) if fault == "rate" else "0.05",
                    )
                if fault == "429_no_retry":
                    return self._error(
                        429, "rate_limit_error", "You have reached your spend limit", retry_after="0.05", retry=False
                    )
                if fault in STATUS_FAULTS:
                    return self._error(*STATUS_FAULTS[fault])
                if server.latency:
                    time.sleep(server.latency)
                data = server._reply_body(body, fault, text="OK" if probe else None, tag=request.tag)
                self.send_response(200)
                self._common_headers(len(data) + (100 if fault == "truncate" else 0))
                self.end_headers()
                self.wfile.write(data)
                if fault == "truncate":
                    self.close_connection = True

            def do_GET(self) -> None:  # noqa: N802
                match = BATCH_PATH.fullmatch(self.path)
                batch = server.batches.get(match.group(1)) if match else None
                if batch is None:
                    return self._error(404, "not_found_error", f"no message batch at {self.path}")
                if not match.group(2):
                    return self._json(batch.description(server.base_url))
                if not batch.ended:
                    return self._error(400, "invalid_request_error", "the batch has not ended yet")
                if batch.results_gone:
                    return self._error(404, "not_found_error", "the results of this batch are no longer available")
                lines = [json.dumps({"custom_id": custom_id, "result": result}) for custom_id, result in batch.results]
                data = ("\n".join(lines) + "\n").encode()
                self.send_response(200)
                self._common_headers(len(data), content_type="application/binary")
                self.end_headers()
                self.wfile.write(data)

            def _create_batch(self, body: dict) -> None:
                items = body.get("requests") or []
                if not items or len(items) > MAX_BATCH_REQUESTS:
                    return self._error(
                        400, "invalid_request_error", f"a batch holds 1 to {MAX_BATCH_REQUESTS} requests"
                    )
                refused = next(
                    (item["custom_id"] for item in items if not CUSTOM_ID.fullmatch(item["custom_id"])), None
                )
                if refused is not None:
                    return self._error(
                        400, "invalid_request_error", f"custom_id {refused!r} does not match ^{CUSTOM_ID.pattern}$"
                    )
                if len({item["custom_id"] for item in items}) != len(items):
                    return self._error(400, "invalid_request_error", "custom_id values must be unique in a batch")
                self._json(server._start_batch(items).description(server.base_url))

            def _json(self, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self._common_headers(len(data))
                self.end_headers()
                self.wfile.write(data)

            def _error(
                self, status: int, kind: str, message: str, retry_after: str | None = None, retry: bool = True
            ) -> None:
                data = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("retry-after", retry_after)
                if not retry:
                    self.send_header("x-should-retry", "false")
                self._common_headers(len(data))
                self.end_headers()
                self.wfile.write(data)

            def _common_headers(self, length: int, content_type: str = "application/json") -> None:
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(length))
                self.send_header("request-id", f"req_{len(server.seen):06d}")
                if server._buckets:
                    for name, value in server._rate_limit_headers().items():
                        self.send_header(name, value)

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

        return Handler


def _check(fault: str) -> None:
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")


@attrs.define
class _Batch:
    id: str
    size: int
    ready_at: float
    results: list[tuple[str, dict]] | None = None
    results_gone: bool = False  # as after the 29 days the API keeps them: a test sets it
    created: str = attrs.field(factory=lambda: datetime.datetime.now(datetime.timezone.utc).isoformat())

    @property
    def ended(self) -> bool:
        return self.results is not None and time.monotonic() >= self.ready_at

    def description(self, base_url: str) -> dict:
        """The MessageBatch object the API returns for this batch now."""
        counts = {"processing": self.size, "succeeded": 0, "errored": 0, "expired": 0, "canceled": 0}
        if self.ended:
            counts["processing"] = 0
            for _, result in self.results:
                counts[result["type"]] += 1
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": "ended" if self.ended else "in_progress",
            "request_counts": counts,
            "created_at": self.created,
            "expires_at": self.created,
            "ended_at": self.created if self.ended else None,
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{base_url}/v1/messages/batches/{self.id}/results" if self.ended else None,
        }


@attrs.define
class _Bucket:
    """One second's worth of a limit, refilled continuously."""

    rate: float
    level: float = attrs.field(init=False)
    updated: float = attrs.field(factory=time.monotonic, init=False)

    def __attrs_post_init__(self) -> None:
        self.level = self.rate

    def refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.rate, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def has(self, cost: float) -> bool:
        self.refill()
        return self.level >= cost

    def wait_for(self, amount: float) -> float:
        """Seconds until the bucket holds `amount`."""
        self.refill()
        return max(0.0, (amount - self.level) / self.rate)
