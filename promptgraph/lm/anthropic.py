"""The one vendor backend: the Anthropic Messages API through the `anthropic` SDK (2.x).

`base_url` (or ANTHROPIC_BASE_URL) points the same client at any server that speaks
POST /v1/messages: llama.cpp's llama-server, Ollama, vLLM, a LiteLLM proxy.

Facts of SDK 2.x this file relies on (checked in its source, 2.12.0):
- `messages.create()` has no temperature/top_p/top_k arguments; they go in `extra_body`.
- The SDK retries 408/409/429/5xx and connection errors itself, with exponential
  back-off, and honours `retry-after` / `retry-after-ms`; `max_retries` sets how often.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence

import anthropic
import attrs

from promptgraph.lm.base import BatchStatus, LMError, MissingAPIKey, Request, Response, Usage
from promptgraph.lm.breaker import CircuitBreaker
from promptgraph.lm.limiter import AdaptiveLimit
from promptgraph.lm.pacer import Pacer
from promptgraph.lm.reprs import settings
from promptgraph.lm.tokens import CHARS_PER_TOKEN

logger = logging.getLogger(__name__)

FORWARD_MODEL = "claude-haiku-5-5"
OPTIMIZER_MODEL = "claude-opus-5-5"
# Local servers ignore the key, but the SDK will not send a request without one.
LOCAL_SERVER_KEY = "promptgraph-local"
NO_KEY = (
    "No Anthropic API key found. Set ANTHROPIC_API_KEY (or pass api_key=...), "
    "or use a local server that speaks the Messages API with --base-url URL "
    "(ANTHROPIC_BASE_URL, base_url=...)."
)

STATUS_HINTS = {
    401: "check ANTHROPIC_API_KEY (or the api_key you passed)",
    403: "this key may not use this model",
    404: "check the model name; current models are claude-haiku-5-5 and claude-opus-5-5",
    413: "the request is too large; shorten the prompt or the demos",
    429: "rate limited even after retries; lower max_concurrency or raise max_retries",
    529: "the API is overloaded; try again later",
}
DO_NOT_RETRY_HINTS = {
    429: "the server said not to retry (x-should-retry: false): a spend limit was probably reached; "
    "raise it or wait for it to reset, then run again",
}
DO_NOT_RETRY_HINT = "the server said not to retry (x-should-retry: false)"
PROBE_HEADER = "x-promptgraph-probe"  # lets a test server tell the probe from the run's calls; others ignore it
# What the request is (Request.tag: forward, critic, rewrite, ...), percent-encoded: a test server
# or a proxy can tell calls apart without reading their wording. Never part of the cache key.
TAG_HEADER = "x-promptgraph-tag"
PROBE_CONNECT_TIMEOUT = 30.0  # seconds to reach the server: a wrong address behind a firewall fails in this
SDK_RETRIES = (408, 409, 429)  # statuses the SDK tries again, as it does every 5xx


class _Stopped(anthropic.AnthropicError):
    """Raised before a request once the breaker is open; an AnthropicError, so the SDK neither wraps nor retries it."""


@attrs.define
class AnthropicLM:
    """An LM backed by the Messages API.

    Concurrency is a thread pool's worth of blocking calls bounded by an AdaptiveLimit held
    here, not in each batch, so every caller sharing this LM shares the one limit; it
    halves when the API answers 529, or 429 before the rate limit is known (seen on every
    attempt, the SDK's retries included), and creeps back up to `max_concurrency` as calls
    succeed. A Pacer, fed by the `anthropic-ratelimit-*` headers, spaces requests out to the
    rate at which the provider's limit refills, so a long run meets few 429s. We chose threads
    over asyncio because calls are I/O-bound (the GIL is released while waiting), the
    SDK's sync client is thread-safe over one connection pool, and a blocking API works
    the same in scripts, notebooks and tests with no event loop.

    Retries come in two layers: the SDK's own (`max_retries`, quick, honouring
    retry-after), then ours (`layer_retries`), which waits longer (`retry_wait` seconds,
    doubling, or the server's retry-after) for outages that outlast the SDK's patience.
    Neither retries a reply that says `x-should-retry: false`. After
    `max_consecutive_failures` requests in a row fail even so (see breaker.py), the LM
    stops calling the server: that call and every later one raise TooManyFailures.
    """

    model: str = FORWARD_MODEL
    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    max_concurrency: int = attrs.field(default=8, validator=attrs.validators.ge(1))
    timeout: float = 300.0  # an optimizer call that thinks and rewrites can take minutes
    # More than the SDK's default of 2: a training run makes hundreds of calls, and a
    # 429 or 529 that outlasts three short waits is common at a provider's limit.
    max_retries: int = 4
    layer_retries: int = 2
    retry_wait: float = 5.0
    # Each counted request has had the SDK's retries; 10 rides out an outage of a minute or so at concurrency 8.
    max_consecutive_failures: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    http_client: object | None = attrs.field(default=None, repr=False)  # an httpx2.Client, for tests
    # What the response cache calls this server; None: "anthropic" or the normalised base URL.
    # A server whose URL changes from run to run (the local one, on a free port) names itself.
    backend_name: str | None = None
    limit: AdaptiveLimit = attrs.field(init=False, repr=False)
    pacer: Pacer = attrs.field(factory=Pacer, init=False, repr=False)
    breaker: CircuitBreaker = attrs.field(init=False, repr=False)
    _client: anthropic.Anthropic | None = attrs.field(default=None, init=False, repr=False)
    _client_lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)
    _warned_of_usage: bool = attrs.field(default=False, init=False, repr=False)  # once per LM, not once per call
    # Body fields this server answered 400 to (a server without structured outputs, a model without effort).
    _unsupported: set[str] = attrs.field(factory=set, init=False, repr=False)
    # The server answered a probe: it is there and takes the key; probing again (the CLI, then compile) sends nothing.
    _probed: bool = attrs.field(default=False, init=False, repr=False)

    def __repr__(self) -> str:
        return settings(self, always=("model",))  # never the key: api_key is repr=False

    def __attrs_post_init__(self) -> None:
        self.limit = AdaptiveLimit(self.max_concurrency)
        self.breaker = CircuitBreaker(self.max_consecutive_failures)

    @property
    def backend(self) -> str:
        """Which server answers: "anthropic" for the API itself, else the base URL in one spelling."""
        if self.backend_name:
            return self.backend_name
        base_url = self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        if base_url is None or urllib.parse.urlsplit(base_url).hostname == "api.anthropic.com":
            return "anthropic"
        return _normalised(base_url)

    def complete(self, request: Request) -> Response:
        for attempt in range(self.layer_retries + 1):
            self.breaker.check()
            try:
                response = self._attempt(request)
            except LMError as error:
                self.breaker.failed(error, server=self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or "the API")
                if self.breaker.open:
                    raise self.breaker.stopped() from error
                if not error.transient or attempt == self.layer_retries:
                    logger.warning("giving up on a request (tag=%s): %s", request.tag, error)
                    raise
                wait = error.retry_after if error.retry_after is not None else self.retry_wait * 2**attempt
                logger.warning(
                    "%s (tag=%s); trying again in %gs (retry %d of %d)",
                    error, request.tag, wait, attempt + 1, self.layer_retries,
                )  # fmt: skip
                self.breaker.pause(wait)
            else:
                self.breaker.succeeded()
                return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _attempt(self, request: Request) -> Response:
        """One request; a control this server refuses (400 naming it) is dropped for good and the request sent again."""
        while True:
            try:
                return self._send(request)
            except LMError as error:
                refused = _refused_controls(error, {**self._controls(request), **self._sampling(request)})
                if not refused:
                    raise
                self._unsupported |= refused
                logger.warning(
                    "%s refused %s; sending requests without it from now on (said once): %s",
                    self.backend, " and ".join(sorted(refused)), error,
                )  # fmt: skip

    def _send(self, request: Request) -> Response:
        client = self._ensure_client()
        model, arguments = self._arguments(request)
        if self._sampling(request):  # the SDK's create() takes no sampling settings: they ride in the body
            arguments["extra_body"] = self._sampling(request)
        arguments["extra_headers"] = {TAG_HEADER: tag_header(request.tag)}
        logger.debug(
            "sending a request: model=%s tag=%s max_tokens=%d to %s", model, request.tag, request.max_tokens,
            client.base_url,
        )  # fmt: skip  # never the key, nor the prompt: logs outlive runs and travel
        with self.limit.slot():
            self.pacer.wait(_costs(request))
            started = time.perf_counter()
            with self._errors_as_lm_errors(model, client):
                message = client.messages.create(**arguments)
            latency = time.perf_counter() - started
        self.limit.succeeded()
        _check_shape(message, model, client.base_url)
        return self._response(message, latency)

    def _arguments(self, request: Request) -> tuple[str, dict]:
        """The model and the body of a Messages API call, sampling settings aside."""
        model = request.model or self.model
        arguments = {
            "model": model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": message.role, "content": message.content} for message in request.messages],
        }
        if request.system:
            arguments["system"] = request.system
        mark_cached_prefix(arguments, request, model)
        if request.stop_sequences:
            arguments["stop_sequences"] = list(request.stop_sequences)
        controls = self._controls(request)
        output_config = {
            name.split(".")[1]: value for name, value in controls.items() if name.startswith("output_config.")
        }
        if output_config:
            arguments["output_config"] = output_config
        if "thinking" in controls:
            arguments["thinking"] = controls["thinking"]
        return model, arguments

    def _sampling(self, request: Request) -> dict[str, float | int]:
        """The sampling settings asked for, less those this server refused (a model that takes none with effort)."""
        return {name: value for name, value in request.sampling().items() if name not in self._unsupported}

    def _controls(self, request: Request) -> dict[str, object]:
        """The model controls this request asks for, by the name of their field in the body, less those the server refused."""
        controls: dict[str, object] = {}
        if request.effort is not None:
            controls["output_config.effort"] = request.effort
        if request.output_schema is not None:
            controls["output_config.format"] = {"type": "json_schema", "schema": dict(request.output_schema)}
        if request.thinking is not None:
            controls["thinking"] = _thinking_param(request.thinking)
        return {name: value for name, value in controls.items() if name not in self._unsupported}

    @contextlib.contextmanager
    def _errors_as_lm_errors(self, model: str, client: anthropic.Anthropic) -> Iterator[None]:
        """The SDK's exceptions, as LMErrors that say what to do."""
        try:
            yield
        except _Stopped:
            raise self.breaker.stopped() from None
        except anthropic.APIStatusError as error:
            raise _status_error(error, model) from error
        except anthropic.APITimeoutError as error:
            raise LMError(
                f"{model}: no answer within {self.timeout:g}s after {self.max_retries} retries; "
                "raise timeout= or check the server",
                model=model,
                transient=True,
            ) from error
        except anthropic.APIConnectionError as error:
            raise LMError(
                f"{model}: could not reach {client.base_url} after {self.max_retries} retries ({error})",
                model=model,
                transient=True,
            ) from error
        except anthropic.APIError as error:  # e.g. a reply that is not a Messages API response
            raise LMError(f"{model}: {error}", model=model) from error
        except json.JSONDecodeError as error:  # the SDK reads a JSON body without catching this
            raise LMError(
                f"{model}: {client.base_url} answered with a body that is not valid JSON, perhaps cut short ({error})",
                model=model,
                transient=True,
            ) from error

    def probe(self) -> None:
        """One tiny request, no retries, past any cache: raise an LMError saying what to do if the run cannot work.

        A server that answers, or is only rate limited or overloaded, is there. One that
        cannot be reached, refuses the key, the model or the request, says not to retry,
        or does not speak the Messages API would fail every call of the run. Once answered,
        a later probe of this LM sends nothing.
        """
        if self._probed:
            return
        # The answer may take the LM's own timeout (a loaded local server is slow, and still a server); reaching
        # the server may not: an address that drops packets fails in half a minute, not in five.
        timeout = anthropic.Timeout(self.timeout, connect=min(self.timeout, PROBE_CONNECT_TIMEOUT))
        client = self._ensure_client().with_options(max_retries=0, timeout=timeout)
        where = client.base_url
        try:
            with self._errors_as_lm_errors(self.model, client):
                message = client.messages.create(
                    model=self.model,
                    max_tokens=1,
                    messages=[{"role": "user", "content": "Say OK."}],
                    extra_headers={PROBE_HEADER: "1"},
                )
            _check_shape(message, self.model, where)
        except LMError as error:
            if isinstance(error.__cause__, anthropic.APIConnectionError):  # timeouts too
                check = (
                    "is the server running, and is --base-url (ANTHROPIC_BASE_URL, base_url=) right?"
                    if self.base_url or os.environ.get("ANTHROPIC_BASE_URL")
                    else "check this machine's network connection"
                )
                raise LMError(f"could not reach {where} ({error.__cause__}); {check}", model=self.model) from error
            # Rate limited, overloaded, a passing fault: the server is there, and the run's retries will see to it.
            if not error.transient:
                raise LMError(f"a first test request failed: {error}", model=self.model, status=error.status) from error
        self._probed = True

    # -- Message Batches (see message_batches.py): half price, answered within 24 hours -------

    def batch_params(self, request: Request) -> dict:
        """One batch item's params: the same body as a call, sampling settings included."""
        _, arguments = self._arguments(request)
        return {**arguments, **self._sampling(request)}

    def submit_batch(self, items: Sequence[dict]) -> str:
        client = self._ensure_client()
        with self._errors_as_lm_errors(self.model, client):
            try:
                return client.messages.batches.create(requests=list(items)).id
            except anthropic.NotFoundError as error:
                raise LMError(
                    f"{client.base_url} does not offer Message Batches (404); run without --batch / batch=True",
                    model=self.model,
                    status=404,
                ) from error

    def poll_batch(self, batch_id: str) -> BatchStatus:
        client = self._ensure_client()
        with self._errors_as_lm_errors(self.model, client):
            batch = client.messages.batches.retrieve(batch_id)
        counts = batch.request_counts
        return BatchStatus(
            ended=batch.processing_status == "ended",
            processing=counts.processing,
            succeeded=counts.succeeded,
            errored=counts.errored,
            expired=counts.expired,
            canceled=counts.canceled,
        )

    def batch_results(self, batch_id: str) -> Iterator[tuple[str, Response | LMError]]:
        """Each item's Response, or an LMError saying why the batch did not answer it; streamed."""
        client = self._ensure_client()
        with self._errors_as_lm_errors(self.model, client):
            for item in client.messages.batches.results(batch_id):
                result = item.result
                if result.type == "succeeded":
                    try:
                        _check_shape(result.message, self.model, client.base_url)
                    except LMError as error:
                        yield item.custom_id, error
                        continue
                    yield item.custom_id, attrs.evolve(self._response(result.message, 0.0), batched=True)
                elif result.type == "errored":
                    error = result.error.error
                    yield (
                        item.custom_id,
                        LMError(
                            f"{self.model}: the batch could not answer this request "
                            f"({getattr(error, 'type', 'error')}: {getattr(error, 'message', '')})",
                            model=self.model,
                        ),
                    )
                else:
                    yield item.custom_id, LMError(f"{self.model}: the batch item was {result.type}", model=self.model)

    def _ensure_client(self) -> anthropic.Anthropic:
        """Built on the first call, so importing and configuring never needs a key."""
        with self._client_lock:
            if self._client is None:
                self._client = self._new_client()
            return self._client

    def _new_client(self) -> anthropic.Anthropic:
        base_url = self.base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        api_key = self.api_key
        if api_key is None and base_url is not None and not _is_anthropic(base_url):
            # Another server: never hand it the Anthropic key from the environment. Local
            # servers ignore the key; a proxy that needs one gets it through api_key=.
            api_key = LOCAL_SERVER_KEY
        api_key = api_key or os.environ.get("ANTHROPIC_API_KEY") or None
        http_client = self.http_client if self.http_client is not None else anthropic.DefaultHttpxClient()
        hooks = http_client.event_hooks
        http_client.event_hooks = {
            **hooks,
            "request": [*hooks.get("request", []), self._before_sending],
            "response": [*hooks.get("response", []), self._observe],
        }
        options = {"base_url": base_url, "timeout": self.timeout, "max_retries": self.max_retries}
        options["http_client"] = http_client
        try:
            client = anthropic.Anthropic(api_key=api_key, **options)
        except anthropic.CredentialsError as error:  # a profile named in the environment that is not there
            raise MissingAPIKey(f"{NO_KEY} ({error})", model=self.model) from error
        if client.api_key is None and client.auth_token is None and client.credentials is None:
            raise MissingAPIKey(NO_KEY, model=self.model)
        return client

    def _response(self, message: anthropic.types.Message, latency: float) -> Response:
        """The Response a message makes; usage the server got impossibly wrong is unknown, with one warning per LM."""
        impossible = _impossible_usage(message.usage)
        if impossible and not self._warned_of_usage:
            self._warned_of_usage = True
            logger.warning(
                "%s: the server reported impossible usage (%s); such calls' tokens and cost count as unknown "
                "in the ledger (said once)",
                message.model,
                ", ".join(f"{name}={value!r}" for name, value in impossible.items()),
            )
        return Response(
            text=_text(message),
            stop_reason=message.stop_reason,
            usage=Usage.unknown() if impossible else _usage(message.usage),
            model=message.model,
            latency=latency,
        )

    def _before_sending(self, request) -> None:
        """Every HTTP request, the SDK's retries included: none goes out once the breaker is open."""
        if self.breaker.open:
            raise _Stopped("the circuit breaker is open")

    def _observe(self, response) -> None:
        """Every HTTP response, retries included: the pacer follows the rate limit; overloads lower the concurrency."""
        self.pacer.observe(response.headers)
        if response.status_code in SDK_RETRIES or response.status_code >= 500:
            wait = response.headers.get("retry-after")
            logger.info(
                "%s answered %d%s; the client retries up to %d times (max_retries)",
                response.request.url, response.status_code, f" (retry-after {wait}s)" if wait else "", self.max_retries,
            )  # fmt: skip
        if response.status_code == 429:
            self.pacer.refused()
        # Once the headers have told the pacer the rate limit, it paces; halving the
        # requests in flight on top would only slow the run down.
        if response.status_code == 529 or (response.status_code == 429 and not self.pacer.knows_limits):
            self.limit.throttled()

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None


# Shortest prefix each model caches (tokens); below it the API silently caches nothing, so a
# marker there is pointless. Published for the 4.x and 5 models; for others we mark prefixes
# of at least the smallest published minimum, which costs nothing if the model's is higher.
MIN_CACHEABLE_TOKENS = {
    "claude-haiku-4-5": 4096,
    "claude-opus-4-5": 4096,
    "claude-opus-4-6": 4096,
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-5": 1024,
    "claude-opus-5": 512,
}
DEFAULT_MIN_CACHEABLE_TOKENS = 512


def mark_cached_prefix(arguments: dict, request: Request, model: str) -> None:
    """Put `cache_control` at the end of the request's shared prefix when it is long enough to be cached."""
    if request.shared_prefix is None:
        return
    end = request.shared_prefix
    prefix_chars = len(request.system) + sum(len(m.content) for m in request.messages[: end + 1])
    minimum = MIN_CACHEABLE_TOKENS.get(model, DEFAULT_MIN_CACHEABLE_TOKENS)
    if prefix_chars / CHARS_PER_TOKEN < minimum:
        return
    marker = {"type": "ephemeral"}
    if end < 0:
        arguments["system"] = [{"type": "text", "text": request.system, "cache_control": marker}]
    else:
        message = arguments["messages"][end]
        message["content"] = [{"type": "text", "text": message["content"], "cache_control": marker}]


def tag_header(tag: str) -> str:
    """A tag as the TAG_HEADER value: percent-encoded UTF-8, since a header holds ASCII only."""
    return urllib.parse.quote(tag, safe=" ")


def _costs(request: Request) -> dict[str, float]:
    """What a request takes from each rate limit; the API counts `max_tokens` against the output limit up front."""
    prompt = (len(request.system) + sum(len(m.content) for m in request.messages)) / CHARS_PER_TOKEN
    return {
        "requests": 1.0,
        "input-tokens": prompt,
        "output-tokens": float(request.max_tokens),
        "tokens": prompt + request.max_tokens,
    }


def _is_anthropic(base_url: str) -> bool:
    host = urllib.parse.urlsplit(base_url).hostname or ""
    return host == "anthropic.com" or host.endswith(".anthropic.com")


def _normalised(url: str) -> str:
    """One spelling of a URL: lower-case scheme and host, no default port, no trailing slash."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port is not None and parts.port != default_port else ""
    return urllib.parse.urlunsplit((scheme, host + port, parts.path.rstrip("/"), parts.query, ""))


# Error types a server may put in a 200 body that are worth asking again, as their status codes would be.
TRANSIENT_ERROR_TYPES = ("api_error", "overloaded_error", "rate_limit_error", "timeout_error")


def _check_shape(message: object, model: str, base_url: object) -> None:
    """Raise an LMError unless the SDK handed back a usable message (it does not validate what it reads)."""
    if isinstance(message, anthropic.types.Message) and message.type == "error":
        error = getattr(message, "error", None)
        detail = error if isinstance(error, dict) else {}
        kind = detail.get("type", "error")
        raise LMError(
            f"{model}: {base_url} answered 200 with an error instead of a message ({kind}: {detail.get('message', '')})",
            model=model,
            transient=kind in TRANSIENT_ERROR_TYPES,
        )
    # e.g. a JSON list, JSON of another shape, or a non-JSON body the SDK hands back as text
    if (
        not isinstance(message, anthropic.types.Message)
        or message.type != "message"
        or not isinstance(getattr(message, "content", None), list)
        or not isinstance(getattr(message, "model", None), str)
    ):
        shown = message.to_dict() if isinstance(message, anthropic.types.Message) else message
        raise LMError(
            f"{model}: {base_url} did not answer with a Messages API response: {str(shown)[:200]!r}", model=model
        )
    if getattr(message, "usage", None) is None:
        raise LMError(f"{model}: {base_url} answered a message with no usage, so its cost is unknown", model=model)


# No single call reads or writes this many tokens; a larger count is a server's mistake.
MAX_TOKENS_PER_CALL = 10**9


def _text(message: anthropic.types.Message) -> str:
    """The text blocks, read warily (the SDK validates nothing); thinking and tool blocks are not the answer."""
    return "".join(
        block.text
        for block in message.content
        if getattr(block, "type", None) == "text" and isinstance(getattr(block, "text", None), str)
    )


def _usage(usage: anthropic.types.Usage) -> Usage:
    """Token counts as the server reported them; the cache fields may be null."""
    counts = {
        "input_tokens": getattr(usage, "input_tokens", None),
        "output_tokens": getattr(usage, "output_tokens", None),
        "cache_write_tokens": getattr(usage, "cache_creation_input_tokens", None),
        "cache_read_tokens": getattr(usage, "cache_read_input_tokens", None),
    }
    return Usage(**{name: 0 if value is None else value for name, value in counts.items()})


def _impossible_usage(usage: anthropic.types.Usage) -> dict[str, object]:
    """The usage fields no call can have: negative, not whole numbers, or over MAX_TOKENS_PER_CALL."""
    counts = attrs.asdict(_usage(usage), filter=lambda attribute, _: attribute.name != "known")
    return {
        name: value
        for name, value in counts.items()
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TOKENS_PER_CALL
    }


def _thinking_param(thinking: str | int) -> dict[str, object]:
    if isinstance(thinking, int):
        return {"type": "enabled", "budget_tokens": thinking}
    return {"type": thinking}


def _refused_controls(error: LMError, controls: dict[str, object]) -> set[str]:
    """The controls a 400 refuses, named as the API names a field it does not take (`thinking: Extra inputs
    are not permitted`, "`temperature` may not be set with effort"): "output_config.format", all of
    "output_config", "thinking", or a sampling setting. A 400 about a control's value
    (`thinking.budget_tokens: ...`) is the caller's to fix, and stays an error."""
    if error.status != 400:
        return set()
    text = str(error)
    if "output_config:" in text:
        return {name for name in controls if name.startswith("output_config.")}
    return {name for name in controls if f"{name}:" in text or f"`{name}`" in text}


def _status_error(error: anthropic.APIStatusError, model: str) -> LMError:
    body = error.body if isinstance(error.body, dict) else {}
    detail = body.get("error", {}) if isinstance(body.get("error"), dict) else {}
    kind = detail.get("type", "error")
    text = detail.get("message") or str(error)
    hint = STATUS_HINTS.get(error.status_code)
    message = f"{model}: the API answered {error.status_code} ({kind}): {text}"
    transient = error.status_code in (408, 409, 429) or error.status_code >= 500
    if error.response.headers.get("x-should-retry") == "false":  # as the SDK itself obeys it
        transient = False
        hint = DO_NOT_RETRY_HINTS.get(error.status_code, DO_NOT_RETRY_HINT)
    return LMError(
        f"{message}; {hint}" if hint else message,
        model=model,
        status=error.status_code,
        transient=transient,
        retry_after=_retry_after(error.response.headers),
    )


def _retry_after(headers) -> float | None:
    try:
        return float(headers.get("retry-after")) if headers.get("retry-after") else None
    except ValueError:  # an HTTP date; the doubling wait will do
        return None
