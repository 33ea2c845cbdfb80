"""Running many requests at once: in order, bounded, accounted, with a progress bar.

A model's failure (an LMError after the client's retries) is data: it becomes a
Failure in its slot and the batch goes on. Any other exception is a bug in the caller's
code and is raised, after the requests not yet started are cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from tqdm import tqdm  # a well-kept progress bar that turns itself off when stderr is not a terminal

from promptgraph.lm.base import LM, Failure, LMError, Request, Response
from promptgraph.lm.ledger import Ledger


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
    results: list[Response | Failure | None] = [None] * len(requests)
    if not requests:
        return []

    def one(index: int) -> None:
        try:
            results[index] = call(lm, requests[index], ledger=ledger)
        except LMError as error:
            results[index] = Failure(request=requests[index], error=error)

    workers = min(len(requests), lm.max_concurrency)
    bar = tqdm(total=len(requests), desc=description or requests[0].tag, disable=None if progress is None else not progress, leave=False)
    with bar, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="promptgraph-lm") as pool:
        futures = [pool.submit(one, index) for index in range(len(requests))]
        try:
            for future in as_completed(futures):
                future.result()
                bar.update()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results  # type: ignore[return-value]  # every slot is filled once the pool is done
