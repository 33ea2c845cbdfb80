"""The model layer's vocabulary: what a call asks, what it answers, what it costs.

Everything above `lm/` speaks in these records; only `lm/anthropic.py` knows the SDK.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from promptgraph.errors import PromptgraphError
from promptgraph.lm.prices import price_for
from promptgraph.lm.reprs import settings, short

ROLES = ("user", "assistant")


@attrs.frozen
class Message:
    role: str = attrs.field(validator=attrs.validators.in_(ROLES))
    content: str = attrs.field(validator=attrs.validators.instance_of(str))


def _to_messages(value: Iterable[Message | Mapping[str, str] | tuple[str, str]]) -> tuple[Message, ...]:
    """Accept the shapes people write by hand: Message, {"role", "content"} or (role, content)."""
    if isinstance(value, (str, bytes)):
        raise TypeError("messages must be a list of messages, not a string; wrap it: [('user', text)]")
    messages = []
    for item in value:
        if isinstance(item, Message):
            messages.append(item)
        elif isinstance(item, Mapping):
            messages.append(Message(role=item["role"], content=item["content"]))
        else:
            role, content = item
            messages.append(Message(role=role, content=content))
    if not messages:
        raise ValueError("a request needs at least one message")
    return tuple(messages)


def _messages_repr(messages: tuple[Message, ...]) -> str:
    count = f"{len(messages)} message{'' if len(messages) == 1 else 's'}"
    return f"[{count}, last: {short(messages[-1].content)}]"


def _optional_at_least(low: float, high: float | None = None):
    def check(instance, attribute, value):
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):  # e.g. "0.5" from a hand-edited file
            raise ValueError(f"{attribute.name} must be a number, got {value!r}")
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValueError(f"{attribute.name} must be {bounds}, got {value}")

    return check


EFFORTS = ("low", "medium", "high", "xhigh", "max")
MIN_THINKING_BUDGET = 1024  # the Messages API's floor for a manual thinking budget


def _thinking(instance, attribute, value) -> None:
    if value is None or value in ("adaptive", "disabled"):
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_THINKING_BUDGET:
        raise ValueError(
            f"thinking must be 'adaptive', 'disabled' or a budget of at least {MIN_THINKING_BUDGET} tokens, got {value!r}"
        )


@attrs.frozen
class Request:
    """One call to a model.

    `model=None` means "the LM's own model". Sampling settings are None unless asked
    for, so a model that rejects them never sees them. `seed` is a rollout id: it only
    changes the cache key, so the same prompt can be sampled again on purpose.
    `tag` names the caller (forward, critic, rewrite) for the ledger, and `shared_prefix`
    marks what a provider may cache; neither changes what the model answers, so neither
    is part of the response cache's key.
    """

    messages: tuple[Message, ...] = attrs.field(converter=_to_messages, repr=_messages_repr)
    system: str = attrs.field(default="", repr=short)
    model: str | None = None
    max_tokens: int = attrs.field(default=1024, validator=attrs.validators.ge(1))
    stop_sequences: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    # Bounds are the ones every backend shares; each server checks its own upper limits.
    temperature: float | None = attrs.field(default=None, validator=_optional_at_least(0.0))
    top_p: float | None = attrs.field(default=None, validator=_optional_at_least(0.0, 1.0))
    top_k: int | None = attrs.field(default=None, validator=_optional_at_least(1))
    seed: int = 0
    # Native constrained output: the reply must be JSON matching this schema, where the
    # backend supports it (the Messages API's `output_config.format`); elsewhere the
    # prompt's own format instruction is all the model has, and the parser checks.
    output_schema: Mapping | None = attrs.field(default=None, repr=False)
    # A GBNF grammar the reply must match, for servers that constrain decoding with one (llama-server);
    # the Messages API has none and ignores it.
    grammar: str | None = attrs.field(default=None, repr=False)
    effort: str | None = attrs.field(default=None, validator=attrs.validators.optional(attrs.validators.in_(EFFORTS)))
    # None: the model's default; "adaptive" or "disabled"; or a budget of thinking tokens (at least 1,024),
    # which count against max_tokens. Thinking is never read as the answer.
    thinking: str | int | None = attrs.field(default=None, validator=_thinking)
    tag: str = "call"
    # The end of the prefix shared by many requests (the system prompt: -1; or the last of
    # the leading messages, e.g. few-shot demos), which a backend may cache; None: nothing shared.
    shared_prefix: int | None = None

    def model_controls(self) -> dict:
        """The controls asked for (effort, thinking, a schema or grammar): each changes the answer or its cost."""
        controls = {
            "output_schema": self.output_schema,
            "grammar": self.grammar,
            "effort": self.effort,
            "thinking": self.thinking,
        }
        return {name: value for name, value in controls.items() if value is not None}

    def sampling(self) -> dict[str, float | int]:
        """The sampling settings that were asked for, and only those."""
        settings = {"temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k}
        return {name: value for name, value in settings.items() if value is not None}

    def __repr__(self) -> str:
        return settings(self, always=("messages",))


@attrs.frozen
class Usage:
    """Tokens a call used. `known=False`: the server's numbers were impossible, so none are counted or priced."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    known: bool = True

    @classmethod
    def unknown(cls) -> Usage:
        return cls(known=False)

    def __repr__(self) -> str:
        return settings(self)

    def cost(self, model: str, *, batched: bool = False) -> float:
        """USD at list price (half when answered through a batch); 0.0 for a model with no known price or unknown usage."""
        price = price_for(model)
        if price is None or not self.known:
            return 0.0
        return price.cost(self, batched=batched)

    def __add__(self, other: Usage) -> Usage:
        """The sum of what is known; unknown if either side was."""
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            known=self.known and other.known,
        )


@attrs.frozen
class Response:
    """What an LM returned for one Request: the text, why it stopped, token usage, the model,
    and whether the cache or a Message Batch answered it."""

    text: str = attrs.field(repr=short)
    stop_reason: str | None
    usage: Usage
    model: str
    latency: float = 0.0
    cached: bool = False
    batched: bool = False  # answered through the Message Batches API, at half price

    def __repr__(self) -> str:
        return settings(self)


@attrs.frozen
class Failure:
    """A request that did not get a response; batches collect these instead of aborting."""

    request: Request
    error: LMError

    def __repr__(self) -> str:
        return f"Failure(model={self.request.model!r}, tag={self.request.tag!r}, error={self.error!r})"


class LMError(PromptgraphError):
    """A call that failed after the client's retries; the message says what to do."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        status: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.model = model
        self.status = status
        self.transient = transient  # worth trying again later: rate limits, overloads, outages
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said


class MissingAPIKey(LMError):
    pass


@runtime_checkable
class LM(Protocol):
    """Anything that turns a Request into a Response.

    `model` is used when a request names none; `max_concurrency` is how many calls
    the LM wants in flight at once (batches size their worker pools from it). An LM may
    also say which server answers it with a `backend` string (see `backend_of`).
    """

    model: str
    max_concurrency: int

    def complete(self, request: Request) -> Response: ...


def backend_of(lm: LM) -> str:
    """Which server answers `lm`: its own `backend` name, or, for an LM that gives none, its class.

    The response cache keys on it, so one server's answers are never served as another's.
    """
    named = getattr(lm, "backend", None)
    return named if named else f"{type(lm).__module__}.{type(lm).__qualname__}"


@attrs.frozen
class BatchStatus:
    ended: bool
    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    expired: int = 0
    canceled: int = 0


@runtime_checkable
class BatchBackend(Protocol):
    """An LM that can also take Message Batches (AnthropicLM)."""

    model: str
    max_concurrency: int

    def complete(self, request: Request) -> Response: ...

    def batch_params(self, request: Request) -> dict: ...

    def submit_batch(self, items: Sequence[dict]) -> str: ...

    def poll_batch(self, batch_id: str) -> BatchStatus: ...

    def batch_results(self, batch_id: str) -> Iterator[tuple[str, Response | LMError]]: ...


class Wraps:
    """Base of an LM that wraps another (a cache, batches): its model, concurrency and backend are the inner LM's."""

    __slots__ = ()
    inner: LM

    @property
    def backend(self) -> str:
        return backend_of(self.inner)

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def max_concurrency(self) -> int:
        return self.inner.max_concurrency


@runtime_checkable
class Watcher(Protocol):
    """An LM layer that only watches the calls through it (a counter): it changes no request and no answer.

    An executor that has to put an LM of its own under the program's (a Message Batches
    collector) keeps such layers on top of it with `over`, so they see every call as the
    program made it.
    """

    inner: LM

    def complete(self, request: Request) -> Response: ...

    def over(self, lm: LM) -> LM:
        """This watcher over another LM, watching into the same place (the same count)."""
        ...
