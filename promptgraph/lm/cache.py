"""A response cache on disk, keyed on everything the model sees.

Training re-sends the same prompts often (the validation set every iteration, a resumed
run, a second compile), and each of those calls costs money; a response already paid for
is served from disk. diskcache is worth the dependency: SQLite-backed, safe across
threads and across processes sharing one directory, with eviction built in.

The key is the request and the backend that answers it (the Anthropic API, or a server's
URL), so one server's replies are never served as another's. A reply that is not an
answer (a refusal, an empty reply, a reply cut at `max_tokens`) is stored but not served:
the request is sent again, unless the caller asks for such replies (`serve_incomplete`).

Values are stored as JSON, not pickles, so a cache directory never executes code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path

import attrs
import diskcache

from promptgraph.lm.base import LM, Request, Response, Usage, Wraps, backend_of
from promptgraph.lm.reprs import settings

logger = logging.getLogger(__name__)

KEY_VERSION = 2  # bump when the key's contents change, so old entries are never misread


def default_cache_dir() -> Path:
    """`$PROMPTGRAPH_CACHE_DIR`, else `~/.cache/promptgraph`."""
    configured = os.environ.get("PROMPTGRAPH_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "promptgraph"


def request_key(request: Request, default_model: str, backend: str) -> str:
    """A stable hash of every field that can change the response, and of who answers; `tag` is not one."""
    fields = {
        "version": KEY_VERSION,
        "backend": backend,
        "model": request.model or default_model,
        "system": request.system,
        "messages": [[message.role, message.content] for message in request.messages],
        "max_tokens": request.max_tokens,
        "stop_sequences": list(request.stop_sequences),
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k,
        "seed": request.seed,
    }
    fields |= request.model_controls()  # only when asked for: keys made before these existed stay valid
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def is_incomplete(response: Response) -> bool:
    """A reply that is not an answer: refused, empty, or cut at `max_tokens`."""
    return response.stop_reason in ("refusal", "max_tokens") or not response.text.strip()


def _encode(response: Response) -> str:
    return json.dumps(attrs.asdict(response))


def _decode(stored: str) -> Response:
    data = json.loads(stored)
    return Response(**{**data, "usage": Usage(**data["usage"])})


@attrs.define
class CachedLM(Wraps):
    """Wraps any LM; a hit comes back with `cached=True` and costs nothing.

    Identical requests in flight at the same time in this process make one call, not
    many: the others wait for it (single flight). Two processes may both miss on the
    same key; both store the same kind of answer and the last write wins.

    A stored reply that is not an answer (`is_incomplete`) is sent again unless
    `serve_incomplete`: e.g. a prompt whose replies are always cut at `max_tokens`, on
    purpose, need not be paid for twice.
    """

    inner: LM
    directory: Path = attrs.field(factory=default_cache_dir, converter=Path)
    size_limit: int = 2**30
    serve_incomplete: bool = False
    _store: diskcache.Cache = attrs.field(init=False, repr=False)
    _guard: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)
    _in_flight: dict[str, tuple[threading.Lock, int]] = attrs.field(factory=dict, init=False, repr=False)

    def __repr__(self) -> str:
        return settings(self, always=("inner", "directory"))

    def __attrs_post_init__(self) -> None:
        self._store = diskcache.Cache(str(self.directory), size_limit=self.size_limit)

    def key(self, request: Request) -> str:
        """The request's key in this cache: the request and the backend that answers it."""
        return request_key(request, self.inner.model, backend_of(self.inner))

    def complete(self, request: Request) -> Response:
        key = self.key(request)
        started = time.perf_counter()
        hit = self._lookup(key, started)
        if hit is not None:
            return self._served(request, hit)
        lock = self._enter(key)
        try:
            with lock:
                hit = self._lookup(key, started)  # another thread may have just fetched it
                if hit is not None:
                    return self._served(request, hit)
                if key in self._store:  # stored, but not an answer (is_incomplete): not served
                    logger.debug(
                        "cache holds no answer, sending again: model=%s tag=%s", request.model or self.inner.model,
                        request.tag,
                    )  # fmt: skip
                response = self.inner.complete(request)
                self._store.set(key, _encode(response))
                logger.debug("cache stored: model=%s tag=%s", response.model, request.tag)
                return response
        finally:
            self._leave(key)

    def lookup(self, request: Request) -> Response | None:
        """The stored response to this request, marked cached; None on a miss (or a reply not to serve). Makes no call."""
        hit = self._lookup(self.key(request), time.perf_counter())
        return self._served(request, hit) if hit is not None else None

    def _served(self, request: Request, hit: Response) -> Response:
        logger.debug("cache hit, not sent: model=%s tag=%s", hit.model, request.tag)
        return hit

    def remember(self, request: Request, response: Response) -> None:
        """Store a response fetched some other way (a Message Batch), so the same request is not paid for twice."""
        self._store.set(self.key(request), _encode(response))

    def _lookup(self, key: str, started: float) -> Response | None:
        stored = self._store.get(key)
        if stored is None:
            return None
        response = _decode(stored)
        if is_incomplete(response) and not self.serve_incomplete:
            return None
        return attrs.evolve(response, cached=True, latency=time.perf_counter() - started)

    def _enter(self, key: str) -> threading.Lock:
        with self._guard:
            lock, waiting = self._in_flight.get(key, (threading.Lock(), 0))
            self._in_flight[key] = (lock, waiting + 1)
            return lock

    def _leave(self, key: str) -> None:
        with self._guard:
            lock, waiting = self._in_flight[key]
            if waiting == 1:
                del self._in_flight[key]
            else:
                self._in_flight[key] = (lock, waiting - 1)

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> CachedLM:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def with_cache(
    lm: LM, *, enabled: bool = True, directory: Path | str | None = None, serve_incomplete: bool = False
) -> LM:
    """The LM behind a cache, or the LM itself when caching is turned off.

    `serve_incomplete=True` also serves stored refusals, empty replies and replies cut at
    `max_tokens`, which are otherwise sent again.
    """
    if not enabled:
        return lm
    directory = directory if directory is not None else default_cache_dir()
    return CachedLM(lm, directory=directory, serve_incomplete=serve_incomplete)
