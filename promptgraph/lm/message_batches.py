"""Message Batches: many requests sent as one job, at half price, answered within 24 hours.

A forward pass over thousands of examples need not be answered in seconds. `run_batch`
answers a list of requests through the Message Batches API:

1. Requests already in the response cache are answered from it; identical requests are
   sent once. An item's `custom_id` holds its request's cache key and its tag (batch_ids.py):
   a batch item has no headers, and a test server answers by the tag.
2. The rest are submitted in chunks within the API's limits (100,000 requests or 256 MB).
   Each batch's id and its items' ids are written to a state file before polling, so a run
   interrupted while it waits, asked again, reads those requests from the same batch
   instead of paying twice, even if the rest of its requests changed.
3. Polling shows progress; results are read by `custom_id` and returned in the order asked.
4. An item the batch could not answer (errored, expired, canceled) falls back to an
   ordinary call, which has its own retries.

`Collector` lets code that makes one call at a time (a Program's modules, run by
`promptgraph.executors.BatchExecutor`) run through batches: it answers what the last batch
answered and collects every other request.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
from tqdm import tqdm

from promptgraph.lm.base import (
    LM,
    BatchBackend,
    Failure,
    LMError,
    Request,
    Response,
    Wraps,
    backend_of,
)
from promptgraph.lm.base import BatchStatus as BatchStatus  # re-exported: its old home
from promptgraph.lm.batch import run_all
from promptgraph.lm.batch_ids import item_id, request_of
from promptgraph.lm.cache import CachedLM, is_incomplete, request_key
from promptgraph.lm.files import atomic_write
from promptgraph.lm.ledger import Ledger
from promptgraph.lm.reprs import settings

logger = logging.getLogger(__name__)

MAX_REQUESTS = 100_000
MAX_BYTES = 256 * 1024 * 1024
ENVELOPE_BYTES = 64  # what each item adds to the body besides its params: custom_id, brackets, commas
STATE_VERSION = 2
RESULTS_KEPT_SECONDS = 29 * 24 * 3600


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

    def __repr__(self) -> str:
        return settings(self)  # the settings changed from their defaults, as the optimizers show theirs


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
    backend_name = backend_of(backend)
    for request in requests:
        key = request_key(request, backend.model, backend_name)
        if key in answers or key in todo:
            continue
        hit = cache.lookup(request) if cache is not None else None
        if hit is not None:
            answers[key] = hit
        else:
            todo[key] = request
    if todo:
        serve_incomplete = cache is not None and cache.serve_incomplete
        answers |= _through_batches(backend, todo, options, serve_incomplete=serve_incomplete)
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
        key = request_key(request, backend.model, backend_name)
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
    backend: BatchBackend, todo: dict[str, Request], options: Batching, *, serve_incomplete: bool = False
) -> dict[str, Response | Failure]:
    named = {request_of(key): key for key in todo}  # an item's id names its request by the start of its key
    with options.state_lock:
        state = _State.load(options.state)
        # Requests some earlier run already submitted are read from that batch, whatever
        # else has changed since (their tags too); the rest go in new batches, in a stable (sorted) order.
        known = {
            named[request_of(custom_id)]: batch_id
            for batch_id, ids in state.requests().items()
            for custom_id in ids
            if request_of(custom_id) in named
        }
        for batch_id in sorted(set(known.values())):
            if not _still_there(backend, batch_id):  # archived, or from another account
                state.forget(batch_id)
                known = {key: owner for key, owner in known.items() if owner != batch_id}
        fresh = {key: todo[key] for key in sorted(todo) if key not in known}
        if known:
            logger.info("reading %d requests from Message Batches submitted earlier", len(known))
        for chunk in _chunks(backend, fresh, options):
            batch_id = backend.submit_batch(chunk)
            logger.info("submitted Message Batch %s of %d requests", batch_id, len(chunk))
            state.remember(batch_id, [item["custom_id"] for item in chunk])
            state.save()  # before waiting: an interrupted run finds the batch again
            known |= {named[request_of(item["custom_id"])]: batch_id for item in chunk}
    batch_ids = sorted(set(known.values()))
    _wait(backend, batch_ids, total=len(todo), options=options)
    answers: dict[str, Response | Failure] = {}
    for batch_id in batch_ids:
        try:
            for custom_id, result in backend.batch_results(batch_id):
                key = named.get(request_of(custom_id))
                if key is not None:
                    answers[key] = result if isinstance(result, Response) else Failure(todo[key], result)
        except LMError as error:  # its results are gone (kept 29 days): what is missing is sent one by one
            warnings.warn(
                f"could not read the results of {batch_id} ({error}); sending its requests one by one", stacklevel=3
            )
            with options.state_lock:
                state = _State.load(options.state)
                state.forget(batch_id)
                state.save()
    for key, request in todo.items():  # an item missing from the results is treated as errored
        if key not in answers:
            answers[key] = Failure(request=request, error=LMError("the batch returned no result for this request"))
    # As the cache does: a reply that is not an answer is asked again next time, not read back from its batch.
    incomplete = {key for key, answer in answers.items() if isinstance(answer, Response) and is_incomplete(answer)}
    if incomplete and not serve_incomplete and options.state is not None:
        with options.state_lock:
            state = _State.load(options.state)
            state.drop({request_of(key) for key in incomplete})
            state.save()
    return answers


def _chunks(backend: BatchBackend, todo: dict[str, Request], options: Batching) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    size = 0
    for key, request in todo.items():
        item = {"custom_id": item_id(key, request.tag), "params": backend.batch_params(request)}
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
    """Submitted batches, with the request keys each holds, kept on disk so a rerun can resume polling."""

    path: Path | None
    batches: dict[str, dict]  # batch id -> {"created": unix time, "requests": [custom_id, ...]}

    @classmethod
    def load(cls, path: Path | None) -> _State:
        if path is None or not path.exists():
            return cls(path, {})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"version {data.get('version')!r}, expected {STATE_VERSION}")
            batches = {str(batch_id): dict(entry) for batch_id, entry in data["batches"].items()}
            for entry in batches.values():
                float(entry["created"]), list(entry["requests"])  # noqa: B018  # shape check
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(
                f"{path} is not a promptgraph batch state file ({error}); move it away to start afresh"
            ) from error
        # The API keeps a batch's results for 29 days; older entries point at nothing.
        fresh = {b: e for b, e in batches.items() if time.time() - e["created"] < RESULTS_KEPT_SECONDS}
        return cls(path, fresh)

    def requests(self) -> dict[str, list[str]]:
        return {batch_id: entry["requests"] for batch_id, entry in self.batches.items()}

    def remember(self, batch_id: str, keys: list[str]) -> None:
        self.batches[batch_id] = {"created": time.time(), "requests": keys}

    def forget(self, batch_id: str) -> None:
        self.batches.pop(batch_id, None)

    def drop(self, requests: set[str]) -> None:
        """Forget these requests (named as `request_of` names them), so a rerun sends them again instead of
        reading them from their batch."""
        for entry in self.batches.values():
            entry["requests"] = [custom_id for custom_id in entry["requests"] if request_of(custom_id) not in requests]

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # A crash mid-write leaves the old file, and two processes never share a temporary file.
        atomic_write(self.path, json.dumps({"version": STATE_VERSION, "batches": self.batches}))


@attrs.define
class BatchedLM(Wraps):
    """An LM whose every call is a Message Batch of its own: half price, for calls that can wait.

    Meant for an optimizer's calls (critiques, rewrites), which come one at a time; a
    forward pass batches many calls together through a `BatchExecutor` instead.
    """

    inner: LM
    options: Batching = attrs.field(factory=Batching)

    def complete(self, request: Request) -> Response:
        (result,) = run_batch(self.inner, [request], options=self.options)
        if isinstance(result, Failure):
            raise result.error
        return result


class Deferred(BaseException):
    """Raised by a Collector for a request the next batch will answer.

    A BaseException, like KeyboardInterrupt, so a module's own `except Exception` cannot
    swallow it and quietly fail every call of a batched run.
    """


@attrs.define
class Collector(Wraps):
    """An LM for running step-by-step code through batches.

    Code runs once with the Collector as its LM: every request is collected and the call
    raises Deferred. `send()` answers the collected requests through a batch; run the
    code again and those calls return at once, and the next step's requests are
    collected. An answer handed out a second time is marked cached, so a ledger counts
    each request's cost once.
    """

    inner: LM
    options: Batching
    _answers: dict[str, Response | LMError] = attrs.field(factory=dict, init=False)
    _delivered: set[str] = attrs.field(factory=set, init=False)
    _pending: dict[str, Request] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def complete(self, request: Request) -> Response:
        key = request_key(request, self.inner.model, backend_of(self.inner))
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
        results = run_batch(self.inner, list(pending.values()), options=self.options)
        with self._lock:
            for key, result in zip(pending, results, strict=True):
                self._answers[key] = result if isinstance(result, Response) else result.error
