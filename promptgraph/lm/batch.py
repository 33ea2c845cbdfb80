"""Running many requests at once: in order, bounded, accounted, with a progress bar.

A model's failure (an LMError after the client's retries) is data: it becomes a
Failure in its slot and the batch goes on. Any other exception is a bug in the caller's
code and is raised, after the requests not yet started are cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from tqdm import tqdm  # a well-kept progress bar that turns itself off when stderr is not a terminal

from promptgraph.lm.base import LM, Failure, LMError, Request, Response
from promptgraph.lm.ledger import Ledger

WARM_WORKERS = 4  # threads a batch starts with
GROW_AFTER = 0.002  # seconds without a finished call after which a batch uses all its workers

T = TypeVar("T")
R = TypeVar("R")


def call(lm: LM, request: Request, *, ledger: Ledger | None = None) -> Response:
    """One request; raises LMError on failure. Recorded in the ledger either way."""
    try:
        response = lm.complete(request)
    except LMError:
        if ledger is not None:
            ledger.record_failure(request.model or lm.model, tag=request.tag)
        raise
    if ledger is not None:
        ledger.record(response, tag=request.tag)
    return response


def run_all(
    lm: LM,
    requests: Sequence[Request],
    *,
    ledger: Ledger | None = None,
    progress: bool | None = None,
    description: str | None = None,
) -> list[Response | Failure]:
    """Every request's Response (or Failure), in the order given.

    At most `lm.max_concurrency` requests run at once. `progress=None` shows a bar only
    on a terminal; True or False forces it.
    """

    def one(request: Request) -> Response | Failure:
        try:
            return call(lm, request, ledger=ledger)
        except LMError as error:
            return Failure(request=request, error=error)

    return map_concurrent(
        one,
        requests,
        workers=lm.max_concurrency,
        progress=progress,
        description=description or (requests[0].tag if requests else ""),
    )


def map_concurrent(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int,
    progress: bool | None = None,
    description: str = "",
) -> list[R]:
    """`[function(item) for item in items]` on up to `workers` threads, in order, with a progress bar.

    If `function` raises, the items not yet started are cancelled and the error is raised.
    """
    if not items:
        return []
    results: list[R | None] = [None] * len(items)

    def one(index: int) -> None:
        results[index] = function(items[index])

    bar = tqdm(total=len(items), desc=description, disable=None if progress is None else not progress, leave=False)
    pool = ThreadPoolExecutor(max_workers=min(len(items), workers), thread_name_prefix="promptgraph")
    # Start with a few threads and use them all only once calls are seen to wait: answers
    # from the cache come back in well under a millisecond, and starting fifty threads for
    # them would take longer than the answers themselves.
    limit = min(workers, WARM_WORKERS)
    waiting = iter(range(len(items)))
    running: set[Future] = set()
    with bar:
        try:
            while True:
                while len(running) < limit and (index := next(waiting, None)) is not None:
                    running.add(pool.submit(one, index))
                if not running:
                    break
                done, running = wait(running, timeout=GROW_AFTER, return_when=FIRST_COMPLETED)
                if not done:
                    limit = workers
                for future in done:
                    future.result()
                    bar.update()
        except BaseException:
            # Do not wait for calls in flight (Ctrl-C must be prompt); cancel the ones not started.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    pool.shutdown(wait=True)
    return results  # type: ignore[return-value]  # every slot is filled once the pool is done
