"""ProgressPrinter: where a compile is, a line at a time, for a terminal or a log.

The library prints nothing of its own (it logs); a caller who wants to watch a run
passes a ProgressPrinter, as the `promptgraph compile` command does:

    progress = pg.ProgressPrinter(iterations=5)
    optimizer = pg.TextualGradientDescent(lm=progress.watch(strong))  # optional: "the optimizer model is ..."
    result = pg.compile(program, ..., optimizer=optimizer, iterations=5, on_iteration=progress)

It prints a line per finished iteration (validation score, change since the line before,
best so far, what was spent, time elapsed), and, through `watch`, a line when the
optimizer model starts each kind of work in an iteration (critiques, rewrites, ...).
Every line is flushed, so a run piped into a file or `tee` shows them as they happen.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import TextIO

import attrs

from promptgraph.history import IterationRecord, best_iteration
from promptgraph.lm import LM, Ledger, Request, Response
from promptgraph.lm.base import Wraps
from promptgraph.lm.ledger import cost_text
from promptgraph.program import Program

# What the optimizer model is doing, by the tag of its request.
WORK = {
    "critic": "writing critiques",
    "rewrite": "rewriting the texts",
    "paraphrase": "paraphrasing the texts",
    "opro": "proposing texts from the scored tries",
    "propose": "proposing instructions",
}


@attrs.define
class ProgressPrinter:
    """Prints how a compile goes; pass it as `on_iteration` (and wrap the optimizer's model with `watch`)."""

    iterations: int | None  # as given to compile; None: until a budget ends the run
    stream: TextIO | None = attrs.field(default=None, repr=False)  # None: sys.stdout at the time of printing
    clock: Callable[[], float] = attrs.field(default=time.monotonic, repr=False)
    started: float = attrs.field(init=False, repr=False)
    _iteration: int = attrs.field(default=0, init=False, repr=False)  # the one under way
    _announced: set[str] = attrs.field(factory=set, init=False, repr=False)  # work announced in that iteration
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self.started = self.clock()

    def __call__(self, history: Sequence[IterationRecord], ledger: Ledger, program: Program) -> None:
        """compile's `on_iteration`: one line for the iteration just finished."""
        self._say(iteration_line(history, ledger, self.iterations, self.elapsed()))
        with self._lock:
            self._iteration = history[-1].iteration + 1
            self._announced = set()

    def starting(self) -> None:
        """A line before iteration 0's validation, so a log shows the run has begun (the pass may take minutes)."""
        self._say(f"{self.label(0)}: validating the program as given")

    def resuming(self, next_iteration: int) -> None:
        """A line before a resumed run goes on."""
        total = f" of {self.iterations}" if self.iterations is not None else ""
        self._say(f"resuming at iteration {next_iteration}{total}")
        with self._lock:
            self._iteration = next_iteration

    def watch(self, lm: LM) -> LM:
        """`lm` as it was, saying when it starts each kind of work in an iteration: give it to the optimizer."""
        return Watched(inner=lm, announce=self.working)

    def working(self, request: Request, model: str) -> None:
        """A line the first time in an iteration the optimizer model is asked for this kind of work."""
        with self._lock:
            if request.tag in self._announced:
                return
            self._announced.add(request.tag)
            iteration = self._iteration
        doing = WORK.get(request.tag, f"working ({request.tag})")
        self._say(f"{self.label(iteration)}: the optimizer model ({model}) is {doing}")

    def label(self, iteration: int) -> str:
        return iteration_label(iteration, self.iterations)

    def elapsed(self) -> str:
        return duration(self.clock() - self.started)

    def _say(self, line: str) -> None:
        print(line, file=self.stream or sys.stdout, flush=True)


@attrs.define
class Watched(Wraps):
    """An LM that tells `announce` of every request before it is sent."""

    inner: LM
    announce: Callable[[Request, str], None]

    def complete(self, request: Request) -> Response:
        self.announce(request, request.model or self.inner.model)
        return self.inner.complete(request)


def iteration_label(iteration: int, iterations: int | None) -> str:
    """ "iteration 2/5", or "iteration 2" for a run that goes on until its budget is spent."""
    return f"iteration {iteration}/{iterations}" if iterations is not None else f"iteration {iteration}"


def iteration_line(history: Sequence[IterationRecord], ledger: Ledger, iterations: int | None, elapsed: str) -> str:
    """The line for the last iteration of `history`."""
    record = history[-1]
    parts = [f"{iteration_label(record.iteration, iterations)}: validation {record.val.score:.3f}"]
    if record.iteration == 0:
        parts[0] += " (the program as given)"
    else:
        change = record.val.score - history[-2].val.score
        parts[0] += f" ({change:+.3f})"
        if record.validated_in is not None:
            parts[0] += f", same texts as iteration {record.validated_in}"
        best = history[best_iteration(history)]
        if not record.kept:
            parts.append(f"undone: training goes on from iteration {best.iteration}")
        parts.append(f"best {best.val.score:.3f} (iteration {best.iteration})")
    spent = cost_text(ledger.accounts())
    parts.append("cost unknown" if spent == "cost unknown" else f"{spent} so far")
    parts.append(f"{elapsed} elapsed")
    return ", ".join(parts)


def duration(seconds: float) -> str:
    """12s, 3m05s, 1h02m."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
