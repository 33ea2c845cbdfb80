"""What every optimizer shares: the contract compile calls, the records a step returns, what a step may use.

An optimizer's `step(program, *, traces, evaluation, context)` changes the program's
trainable values in place (compile hands it a copy) and returns what it did. `traces` and
`evaluation` are this iteration's training minibatch; `context` gives the forward model,
the ledger, the metric and the trainset, for optimizers that score candidates themselves.
The rest of the contract has safe defaults (see `Optimizer`).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

import attrs

from promptgraph.backward import Critique
from promptgraph.data import Example, stratified_sample
from promptgraph.executors import Executor, Labelled, executor_for
from promptgraph.lm import LM, Batching, Ledger
from promptgraph.lm.reprs import names, rounded, settings, short
from promptgraph.metrics import Evaluation, Metric, evaluate
from promptgraph.phases import PhaseEstimate, Shape
from promptgraph.program import Program, run_together
from promptgraph.trace import Trace

TEXTS = "texts"  # what an optimizer may train: the program's trainable Parameters
DEMOS = "demos"  # and its trainable few-shot demo sets


def trainable_in(program: Program) -> frozenset[str]:
    """What of the program can be trained: TEXTS and DEMOS that are not frozen."""
    kinds = {TEXTS} if any(parameter.trainable for _, parameter in program.named_parameters()) else set()
    kinds |= {DEMOS} if any(demos.trainable for _, demos in program.named_demos()) else set()
    return frozenset(kinds)


def nothing_to_train(name: str, wanted: frozenset[str], program: Program) -> str | None:
    """Why an optimizer (`name`) that trains `wanted` could change nothing in `program`, or None."""
    if wanted & trainable_in(program):
        return None
    kinds = " or ".join(sorted(wanted))
    return f"{name} trains {kinds}, and the program has no trainable {kinds} (all frozen, or none)"


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


def rejected(updates: Sequence[Update], why: str) -> tuple[Update, ...]:
    """The updates with every change marked rejected for `why` (the texts were put back)."""
    return tuple(
        attrs.evolve(update, status="rejected", error=why) if update.status == "changed" else update
        for update in updates
    )


@attrs.frozen
class Tried:
    """One candidate an optimizer looked at: where it came from, how it scored, what became of it."""

    step: int  # the optimizer's step (compile's iteration)
    candidate: int  # its number within the step; 0 is the program the step started from
    origin: str  # "current", "critique", "paraphrase", "proposal", "edit", ...
    changes: dict[str, tuple[str, str]] = attrs.field(repr=names)  # parameter -> (start of the step, candidate)
    score: float | None = attrs.field(repr=rounded)  # mean over the examples it was scored on; None if never scored
    examples: int  # how many examples that was
    decision: str  # "kept", or why it was dropped


@attrs.frozen
class StepResult:
    critiques: tuple[Critique, ...] = ()
    updates: tuple[Update, ...] = ()
    tried: tuple[Tried, ...] = ()  # every candidate a search looked at, for the history and the report
    stopped: str | None = None  # the optimizer has nothing left to try: compile records this step and ends the run
    # Why the step took no training minibatch, when its begin_step chose none (a retrieval pool, a merge):
    # the report says so instead of leaving the reader to guess why there are no training replies.
    no_minibatch: str | None = None


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
    label: str = ""  # where the run is, for progress bars: "iteration 2/5"

    def executor(self) -> Executor:
        """How the step's forward calls run (threads or batches), their progress bars labelled with the iteration."""
        return Labelled(executor_for(self.batch), self.label)

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
        return self.score_together([(program, examples)], tag=tag)[0]

    def score_together(
        self, runs: Sequence[tuple[Program, Sequence[Example]]], *, tag: str = "search"
    ) -> list[Evaluation]:
        """Several programs (candidates) scored in one run: with Message Batches, one batch per generation."""
        runs_traces = run_together(
            runs, lm=self.lm, ledger=self.ledger, tag=tag, progress=self.progress, executor=self.executor()
        )
        return [evaluate(traces, metric=self.metric, labels=self.labels) for traces in runs_traces]


class Optimizer(abc.ABC):
    """What compile calls on an optimizer; everything but `step` has a safe default.

    - `begin_step(program, context) -> Sequence[Example] | None`: called at the start of every
      iteration, before the minibatch is sampled. An optimizer that keeps several candidates
      puts the one it will change into `program` here (search.commit). It returns the
      examples this step trains on, or None for compile's own stratified sample.
    - `step(program, *, traces, evaluation, context) -> StepResult`: change the program.
      A result with `stopped` says there is nothing left to try: compile ends the run.
    - `validated(iteration, program, evaluation)`: compile scored `program` as it stands on
      the validation set (iteration 0 too), or reused an earlier pass of the same texts.
    - `undone(values)`: compile took the last step's texts out again (they scored below the
      best on validation); `values` are those texts, by parameter name. Called only when
      the revert changed a text, right after the step.
    - `state() -> dict | None` / `restore(state)`: what it remembers between steps
      (JSON-ready), so a checkpoint carries its memory across a resume.
    - `estimate(shape) -> list[PhaseEstimate]`: its own calls over `shape.steps` steps,
      for `compile --dry-run` and the budget.
    - `minibatch_size(default) -> int`: the examples one step trains on, for those estimates,
      when `begin_step` chooses its own (`default` is compile's sample size).
    - `called_model() -> str | None`: the model its own calls go to, what estimates price them
      at; by default its `lm`'s, None for an optimizer that calls no model.
    - `trains() -> frozenset[str]`: what its steps change, TEXTS and/or DEMOS; by default either.
    - `cannot_train(program) -> str | None`: why a step could change nothing in `program` (it has
      none of what the optimizer trains), so compile refuses the run before any call; else None.

    An object that only has `step` still works: compile wraps it (`as_optimizer`).
    """

    __slots__ = ()

    def called_model(self) -> str | None:
        """The model its own calls go to (its `lm`'s), or None when it calls none: what they are priced at.
        A method, not a `model` property, so that a subclass may keep a `model` attribute of its own."""
        lm = getattr(self, "lm", None)
        return lm.model if lm is not None else None

    def trains(self) -> frozenset[str]:
        """What its steps change: TEXTS, DEMOS or both. Not known by default: either will do."""
        return frozenset({TEXTS, DEMOS})

    def cannot_train(self, program: Program) -> str | None:
        """Why a step could change nothing in `program` (it has none of what this optimizer trains), or None."""
        return nothing_to_train(type(self).__name__, self.trains(), program)

    def begin_step(self, program: Program, context: StepContext) -> Sequence[Example] | None:
        return None  # compile's own stratified sample, the program as it stands

    @abc.abstractmethod
    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult: ...

    def validated(self, iteration: int, program: Program, evaluation: Evaluation) -> None:  # noqa: B027
        """Compile scored `program` on the validation set in `iteration`; by default nothing is kept of it."""

    def undone(self, values: Mapping[str, str]) -> None:  # noqa: B027  # by default nothing to forget
        """Compile reverted the last step: these texts lost on validation and are out of the program."""

    def state(self) -> dict | None:
        return None  # nothing remembered between steps

    def restore(self, state: dict) -> None:  # noqa: B027  # nothing remembered, nothing to put back
        """Put back what `state()` returned."""

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        return []  # calls nobody can count in advance are not estimated

    def minibatch_size(self, default: int) -> int:
        return default  # compile's stratified sample


def as_optimizer(optimizer: object) -> Optimizer:
    """The optimizer itself, or one that has only `step` (duck-typed) wrapped with the defaults."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"{optimizer!r} is not an optimizer: it has no step(program, *, traces, evaluation, context)")
    return _DuckTyped(optimizer)


@attrs.define(repr=False)
class _DuckTyped(Optimizer):
    """An optimizer written before the base class: whichever methods it has, else the defaults."""

    inner: object

    def called_model(self) -> str | None:
        lm = getattr(self.inner, "lm", None)
        return lm.model if lm is not None else None

    def trains(self) -> frozenset[str]:
        return getattr(self.inner, "trains", super().trains)()

    def cannot_train(self, program: Program) -> str | None:
        said = getattr(self.inner, "cannot_train", None)
        return (
            said(program) if said is not None else nothing_to_train(type(self.inner).__name__, self.trains(), program)
        )

    def begin_step(self, program: Program, context: StepContext) -> Sequence[Example] | None:
        return getattr(self.inner, "begin_step", lambda program, context: None)(program, context)

    def validated(self, iteration: int, program: Program, evaluation: Evaluation) -> None:
        getattr(self.inner, "validated", lambda iteration, program, evaluation: None)(iteration, program, evaluation)

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        return self.inner.step(program, traces=traces, evaluation=evaluation, context=context)

    def undone(self, values: Mapping[str, str]) -> None:
        getattr(self.inner, "undone", lambda values: None)(values)

    def state(self) -> dict | None:
        return getattr(self.inner, "state", lambda: None)()

    def restore(self, state: dict) -> None:
        getattr(self.inner, "restore", lambda state: None)(state)

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        return getattr(self.inner, "estimate", lambda shape: [])(shape)

    def minibatch_size(self, default: int) -> int:
        return getattr(self.inner, "minibatch_size", lambda default: default)(default)

    def __repr__(self) -> str:
        return repr(self.inner)
