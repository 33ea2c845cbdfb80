"""Message Batches: many requests sent as one job, at half price, answered within 24 hours.

A forward pass over thousands of examples need not be answered in seconds. `run_batch`
answers a list of requests through the Message Batches API:

1. Requests already in the response cache are answered from it; identical requests are
   sent once (a request's cache key is its `custom_id`).
2. The rest are submitted in chunks within the API's limits (100,000 requests or 256 MB).
   Each chunk's batch id is written to a state file before polling, so an interrupted
   run that asks for the same requests polls the same batch instead of paying twice.
3. Polling shows progress; results are read by `custom_id` and returned in the order asked.
4. An item the batch could not answer (errored, expired, canceled) falls back to an
   ordinary call, which has its own retries.

`Collector` lets code that makes one call at a time (a Program's modules) run through
batches: it answers what the last batch answered and collects every other request.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs
from tqdm import tqdm

from promptgraph.lm.base import LM, Failure, LMError, Request, Response
from promptgraph.lm.batch import run_all
from promptgraph.lm.cache import CachedLM, request_key
from promptgraph.lm.ledger import Ledger

MAX_REQUESTS = 100_000
MAX_BYTES = 256 * 1024 * 1024
ENVELOPE_BYTES = 64  # what each item adds to the body besides its params: custom_id, brackets, commas
STATE_VERSION = 1


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


@attrs.frozen
class Batching:
    """How a forward pass or a predict job uses Message Batches.

    `state` is the JSON file that remembers submitted batch ids (compile keeps it in the
    run directory); without one an interrupted run cannot resume polling.
    """

    state: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    poll_seconds: float = 30.0
    progress: bool | None = None
    max_requests: int = attrs.field(default=MAX_REQUESTS, validator=attrs.validators.in_(range(1, MAX_REQUESTS + 1)))
    max_bytes: int = attrs.field(default=MAX_BYTES, validator=attrs.validators.in_(range(1024, MAX_BYTES + 1)))
    # One state file may serve several threads (a forward pass, an optimizer's calls): one writer at a time.
    state_lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, eq=False, repr=False)


def run_batch(
    lm: LM, requests: Sequence[Request], *, options: Batching, ledger: Ledger | None = None
) -> list[Response | Failure]:
    """Every request's Response (or Failure), in the order given, through Message Batches."""
    cache = lm if isinstance(lm, CachedLM) else None
    backend = cache.inner if cache is not None else lm
    if not isinstance(backend, BatchBackend):
        raise TypeError(
            f"the LM for {backend.model} ({type(backend).__name__}) cannot send Message Batches; "
            "batching needs an Anthropic backend (AnthropicLM). Run without --batch / batch=True."
        )
    answers: dict[str, Response | Failure] = {}
    todo: dict[str, Request] = {}
    for request in requests:
        key = request_key(request, backend.model)
        if key in answers or key in todo:
            continue
        hit = cache.lookup(request) if cache is not None else None
        if hit is not None:
            answers[key] = hit
        else:
            todo[key] = request
    if todo:
        answers |= _through_batches(backend, todo, options)
    retry = {key: todo[key] for key, answer in answers.items() if isinstance(answer, Failure) and key in todo}
    if retry:  # one ordinary call each, with the client's retries, for what the batch could not answer
        for key, result in zip(retry, run_all(lm, list(retry.values()), progress=False), strict=True):
            answers[key] = result
    for key, request in todo.items():
        answer = answers[key]
        if cache is not None and isinstance(answer, Response) and answer.batched:
            cache.remember(request, answer)
    results: list[Response | Failure] = []
    answered: set[str] = set()
    for request in requests:
        key = request_key(request, backend.model)
        answer = answers[key]
        if isinstance(answer, Response) and key in answered:
            answer = attrs.evolve(answer, cached=True)  # a repeated request: paid for once
        answered.add(key)
        if ledger is not None:
            if isinstance(answer, Failure):
                ledger.record_failure(request.model or backend.model, tag=request.tag)
            else:
                ledger.record(answer, tag=request.tag)
        results.append(answer if isinstance(answer, Response) else Failure(request=request, error=answer.error))
    return results


def _through_batches(
    backend: BatchBackend, todo: dict[str, Request], options: Batching
) -> dict[str, Response | Failure]:
    batch_ids = []
    for chunk in _chunks(backend, todo, options):
        fingerprint = hashlib.sha256(",".join(item["custom_id"] for item in chunk).encode()).hexdigest()
        with options.state_lock:
            state = _State.load(options.state)
            batch_id = state.batches.get(fingerprint)
            if batch_id is not None and not _still_there(backend, batch_id):
                batch_id = None  # archived or from another account: its results are gone
            if batch_id is None:
                batch_id = backend.submit_batch(chunk)
                state.batches[fingerprint] = batch_id
                state.save()
        batch_ids.append(batch_id)
    _wait(backend, batch_ids, total=len(todo), options=options)
    answers: dict[str, Response | Failure] = {}
    for batch_id in batch_ids:
        for custom_id, result in backend.batch_results(batch_id):
            if custom_id in todo:
                request = todo[custom_id]
                answers[custom_id] = result if isinstance(result, Response) else Failure(request=request, error=result)
    for key, request in todo.items():  # an item missing from the results is treated as errored
        if key not in answers:
            answers[key] = Failure(request=request, error=LMError("the batch returned no result for this request"))
    return answers


def _chunks(backend: BatchBackend, todo: dict[str, Request], options: Batching) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    size = 0
    for key, request in todo.items():
        item = {"custom_id": key, "params": backend.batch_params(request)}
        item_size = len(json.dumps(item["params"], ensure_ascii=False).encode()) + ENVELOPE_BYTES
        if item_size > options.max_bytes:
            raise ValueError(
                f"one request is {item_size:,} bytes, more than a batch may hold ({options.max_bytes:,}); shorten its prompt"
            )
        if chunk and (len(chunk) == options.max_requests or size + item_size > options.max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


def _still_there(backend: BatchBackend, batch_id: str) -> bool:
    try:
        backend.poll_batch(batch_id)
    except LMError as error:
        if error.status == 404:
            return False
        raise
    return True


def _wait(backend: BatchBackend, batch_ids: list[str], *, total: int, options: Batching) -> None:
    """Poll until every batch has ended, showing how many requests are done."""
    waiting = list(batch_ids)
    counts: dict[str, int] = {}
    disable = None if options.progress is None else not options.progress
    with tqdm(total=total, desc="batch", unit="request", disable=disable) as bar:
        while waiting:
            for batch_id in list(waiting):
                status = backend.poll_batch(batch_id)
                done = status.succeeded + status.errored + status.expired + status.canceled
                bar.update(done - counts.get(batch_id, 0))
                counts[batch_id] = done
                if status.ended:
                    waiting.remove(batch_id)
            if waiting:
                time.sleep(options.poll_seconds)


@attrs.define
class _State:
    """Submitted batches by the fingerprint of their requests, kept on disk so a rerun can resume polling."""

    path: Path | None
    batches: dict[str, str]

    @classmethod
    def load(cls, path: Path | None) -> _State:
        if path is None or not path.exists():
            return cls(path, {})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"version {data.get('version')!r}, expected {STATE_VERSION}")
            return cls(path, dict(data["batches"]))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{path} is not a promptgraph batch state file ({error}); move it away to start afresh"
            ) from error

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps({"version": STATE_VERSION, "batches": self.batches}, indent=1), encoding="utf-8")
        os.replace(partial, self.path)  # a crash mid-write leaves the old file, never half a file


@attrs.define
class BatchedLM:
    """An LM whose every call is a Message Batch of its own: half price, for calls that can wait.

    Meant for an optimizer's calls (critiques, rewrites), which come one at a time; a
    forward pass batches many calls together through `Collector` instead.
    """

    inner: LM
    options: Batching = attrs.field(factory=Batching)

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def max_concurrency(self) -> int:
        return self.inner.max_concurrency

    def complete(self, request: Request) -> Response:
        (result,) = run_batch(self.inner, [request], options=self.options)
        if isinstance(result, Failure):
            raise result.error
        return result


class Deferred(Exception):
    """Raised by a Collector for a request the next batch will answer."""


@attrs.define
class Collector:
    """An LM for running step-by-step code through batches.

    Code runs once with the Collector as its LM: every request is collected and the call
    raises Deferred. `send()` answers the collected requests through a batch; run the
    code again and those calls return at once, and the next step's requests are
    collected. An answer handed out a second time is marked cached, so a ledger counts
    each request's cost once.
    """

    lm: LM
    options: Batching
    _answers: dict[str, Response | LMError] = attrs.field(factory=dict, init=False)
    _delivered: set[str] = attrs.field(factory=set, init=False)
    _pending: dict[str, Request] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    @property
    def model(self) -> str:
        return self.lm.model

    @property
    def max_concurrency(self) -> int:
        return self.lm.max_concurrency

    @property
    def pending(self) -> int:
        return len(self._pending)

    def complete(self, request: Request) -> Response:
        key = request_key(request, self.lm.model)
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                self._pending.setdefault(key, request)
                raise Deferred(key)
            first = key not in self._delivered
            self._delivered.add(key)
        if isinstance(answer, LMError):
            raise copy.copy(answer)  # each caller gets its own exception object and traceback
        return answer if first else attrs.evolve(answer, cached=True)

    def send(self) -> None:
        """Answer every collected request through Message Batches."""
        with self._lock:
            pending, self._pending = self._pending, {}
        results = run_batch(self.lm, list(pending.values()), options=self.options)
        with self._lock:
            for key, result in zip(pending, results, strict=True):
                self._answers[key] = result if isinstance(result, Response) else result.error
