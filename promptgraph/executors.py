"""Executors: how a program's calls are run, on threads or through Message Batches.

A Program hands an executor one generation's tasks, each a function of the LM it is to
call, and gets their results back in the order given; it knows nothing of how they ran.

- `ThreadExecutor` (the default) runs the tasks at once, at most `lm.max_concurrency`
  at a time.
- `BatchExecutor` runs them through Message Batches, at half price and slower. Code that
  makes one call at a time cannot wait hours for an answer, so the tasks run with an LM
  that collects their requests instead of answering them (a `Collector`); the collected
  requests go out as one batch, and the tasks run again on the answers. A task that calls
  the model several times in a row takes a batch per call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import attrs

from promptgraph.errors import PromptgraphError
from promptgraph.lm import LM, map_concurrent
from promptgraph.lm.base import Watcher
from promptgraph.lm.message_batches import Batching, Collector, Deferred
from promptgraph.lm.reprs import settings

T = TypeVar("T")

MAX_BATCH_ROUNDS = 20  # batches per call of run(): a task may call the model this many times in a row


class Unfinished(PromptgraphError):
    """Tasks an executor could not finish: `indices` says which (in the order given), the message why."""

    def __init__(self, indices: Sequence[int], reason: str):
        super().__init__(reason)
        self.indices = tuple(indices)
        self.reason = reason


class Executor(Protocol):
    """How one generation's calls are run: on threads (`ThreadExecutor`, the default) or as Message Batches.

    Example: `program.run(examples, lm=lm, executor=pg.BatchExecutor(pg.Batching()))`.
    """

    def run(
        self, tasks: Sequence[Callable[[LM], T]], *, lm: LM, progress: bool | None = None, description: str = ""
    ) -> list[T]:
        """Each task called with the LM to use, results in the order of the tasks."""


@attrs.frozen
class ThreadExecutor:
    """Tasks on threads, at most the LM's `max_concurrency` at once."""

    def run(
        self, tasks: Sequence[Callable[[LM], T]], *, lm: LM, progress: bool | None = None, description: str = ""
    ) -> list[T]:
        return map_concurrent(
            lambda task: task(lm), tasks, workers=lm.max_concurrency, progress=progress, description=description
        )


@attrs.frozen
class BatchExecutor:
    """Tasks through Message Batches: collect every task's request, send them as one batch, run again."""

    options: Batching = attrs.field(factory=Batching)
    max_rounds: int = MAX_BATCH_ROUNDS

    def __repr__(self) -> str:
        return settings(self)

    def run(
        self, tasks: Sequence[Callable[[LM], T]], *, lm: LM, progress: bool | None = None, description: str = ""
    ) -> list[T]:
        watchers = []
        while isinstance(lm, Watcher):  # a counter watches the calls as the tasks make them, above the collector
            watchers.append(lm)
            lm = lm.inner
        collector = Collector(lm, self.options)
        front: LM = collector
        for watcher in reversed(watchers):
            front = watcher.over(front)
        results: dict[int, T] = {}

        def attempt(index: int) -> bool:
            try:
                results[index] = tasks[index](front)
            except Deferred:
                return False  # its request is in the next batch
            return True

        waiting = list(range(len(tasks)))
        for _ in range(self.max_rounds):
            done = map_concurrent(
                attempt, waiting, workers=lm.max_concurrency, progress=progress, description=description
            )
            waiting = [index for index, finished in zip(waiting, done, strict=True) if not finished]
            if not waiting:
                return [results[index] for index in range(len(tasks))]
            collector.send()
        raise Unfinished(
            waiting,
            f"asked for new requests after {self.max_rounds} batches; a task run through batches "
            "must ask the same requests when run again on the same inputs",
        )


@attrs.frozen
class Labelled:
    """An executor whose progress bars say where a run is: "iteration 2/5 validate" rather than "validate"."""

    inner: Executor
    label: str

    def run(
        self, tasks: Sequence[Callable[[LM], T]], *, lm: LM, progress: bool | None = None, description: str = ""
    ) -> list[T]:
        return self.inner.run(tasks, lm=lm, progress=progress, description=f"{self.label} {description}".strip())


def executor_for(batch: Batching | None) -> Executor:
    """Through Message Batches with these settings, or on threads without them."""
    return BatchExecutor(batch) if batch is not None else ThreadExecutor()
