"""What every optimizer shares: the records a step returns and what a step may use.

An optimizer's `step(program, *, traces, evaluation, context)` changes the program's
trainable values in place (compile hands it a copy) and returns what it did. `traces` and
`evaluation` are this iteration's training minibatch; `context` gives the forward model,
the ledger, the metric and the trainset, for optimizers that score candidates themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import attrs

from promptgraph.backward import Critique
from promptgraph.data import Example, stratified_sample
from promptgraph.executors import executor_for
from promptgraph.lm import LM, Batching, Ledger
from promptgraph.lm.reprs import names, settings, short
from promptgraph.metrics import Evaluation, Metric, evaluate
from promptgraph.program import Program
from promptgraph.trace import Trace


@attrs.frozen
class Update:
    node: str
    status: str  # "changed", "unchanged" (the optimizer kept every value) or "rejected"
    changes: dict[str, tuple[str, str]] = attrs.field(repr=names)  # parameter (or demos) name -> (old, new), as text
    reasoning: str = attrs.field(default="", repr=short)
    replies: tuple[str, ...] = attrs.field(default=(), repr=False)
    error: str | None = attrs.field(default=None, repr=short)
    edits: tuple[str, ...] = attrs.field(default=(), repr=False)  # in edit mode: what each edit did, in order

    def __repr__(self) -> str:
        return settings(self)


@attrs.frozen
class Tried:
    """One candidate an optimizer looked at: where it came from, how it scored, what became of it."""

    step: int  # the optimizer's step (compile's iteration)
    candidate: int  # its number within the step; 0 is the program the step started from
    origin: str  # "current", "critique", "paraphrase", "proposal", "edit", ...
    changes: dict[str, tuple[str, str]] = attrs.field(repr=names)  # parameter -> (start of the step, candidate)
    score: float | None  # mean over the examples it was scored on; None if never scored
    examples: int  # how many examples that was
    decision: str  # "kept", or why it was dropped


@attrs.frozen
class StepResult:
    critiques: tuple[Critique, ...] = ()
    updates: tuple[Update, ...] = ()
    tried: tuple[Tried, ...] = ()  # every candidate a search looked at, for the history and the report


@attrs.frozen
class StepContext:
    lm: LM  # the forward model
    ledger: Ledger
    metric: Metric
    labels: Sequence[str]
    trainset: Sequence[Example]  # never the validation set
    seed: int
    progress: bool | None = None
    stratify: bool = True  # sample per label (a classifier) or as one group (free-text targets)
    batch: Batching | None = None  # forward calls through Message Batches
    iteration: int = 0  # compile's iteration: the step number the search history records
    run_seed: int = 0  # compile's seed, the same in every step (`seed` changes from step to step)

    def dev_sample(
        self, per_label: int, *, exclude: Sequence[Example] = (), offset: int = 1, every_step: bool = False
    ) -> list[Example]:
        """Examples of the trainset to compare candidates on, never those in `exclude` (the minibatch).

        With `every_step`, the same examples in every step of the run (and after a resume).
        """
        excluded = {id(example) for example in exclude}
        pool = [example for example in self.trainset if id(example) not in excluded and not example.always]
        seed = (self.run_seed if every_step else self.seed) * 7919 + offset
        return stratified_sample(pool, per_label, seed=seed, stratify=self.stratify)

    def score(self, program: Program, examples: Sequence[Example], *, tag: str = "search") -> Evaluation:
        traces = program.run(
            examples, lm=self.lm, ledger=self.ledger, tag=tag, progress=self.progress, executor=executor_for(self.batch)
        )
        return evaluate(traces, metric=self.metric, labels=self.labels)


class Optimizer(Protocol):
    """What compile needs of an optimizer. One that remembers things between steps (a beam,
    a trajectory, rejected texts) also has `state() -> dict` (JSON-ready) and
    `restore(state)`, so a checkpoint carries its memory across a resume."""

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult: ...
