"""What the next iteration of a run will likely cost, so a budget can stop the run before it.

Two budgets: `budget_usd` (the next iteration's likely cost, from the last one's) and
`max_metric_calls` (forward calls, counted as they are sent; the next iteration's upper bound).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import attrs

from promptgraph.data import Example, stratified_sample
from promptgraph.errors import ArgumentError
from promptgraph.estimate import PhaseEstimate, estimate_compile, shape_of
from promptgraph.history import IterationRecord
from promptgraph.lm import LM, Request, Response, Usage
from promptgraph.lm.base import Wraps
from promptgraph.lm.prices import price_for
from promptgraph.optimizers.base import Optimizer, as_optimizer
from promptgraph.optimizers.search import modules_in
from promptgraph.program import Program


@attrs.frozen
class IterationPlan:
    """What one more iteration would do, to price it before any iteration has run."""

    program: Program
    trainset: Sequence[Example]
    valset_size: int
    samples_per_label: int
    optimizer: Optimizer
    forward_model: str
    optimizer_model: str

    def phases(self) -> list[PhaseEstimate]:
        return estimate_compile(
            self.program,
            trainset=self.trainset,
            valset_size=self.valset_size,
            iterations=1,
            samples_per_label=self.samples_per_label,
            optimizer=self.optimizer,
            forward_model=self.forward_model,
            optimizer_model=self.optimizer_model,
        )


def next_cost(history: Sequence[IterationRecord], plan: IterationPlan | None = None) -> float:
    """What the next iteration will likely cost: the last one's cost; before any, an estimate from `plan`.

    The first estimate scales iteration 0's validation cost to a minibatch more, and adds the
    optimizer's calls from `estimate_compile` without their repairs, with 1,000 output
    tokens each: typical, not the upper bound, which would refuse most budgets outright.
    """
    if len(history) > 1:
        return history[-1].usd - history[-2].usd
    if plan is None:
        raise ValueError("before the first iteration the next one's cost is estimated from a plan")
    phases = plan.phases()
    by_phase = {phase.phase: phase for phase in phases}
    validation = history[0].usd
    batch = by_phase["forward"].calls / max(by_phase["validate"].calls / 2, 1)
    likely = validation * (1 + batch)
    for phase in phases:
        if phase.phase in ("forward", "validate"):
            continue
        if phase.forward:  # scoring candidates: priced like the validation pass
            likely += validation * phase.calls / max(by_phase["validate"].calls / 2, 1)
        else:  # the optimizer's structured calls: half of them are repairs
            calls = phase.calls // 2
            likely += Usage(input_tokens=phase.input_tokens // 2, output_tokens=1000 * calls).cost(phase.model)
    return likely


def check_budget_usd(budget_usd: float | None) -> None:
    """Refuses anything but None or a finite number of dollars above 0, as max_metric_calls is refused."""
    number = isinstance(budget_usd, (int, float)) and not isinstance(budget_usd, bool)
    if budget_usd is None or (number and math.isfinite(budget_usd) and budget_usd > 0):
        return
    raise ArgumentError(f"budget_usd must be a number of dollars above 0, not {budget_usd!r}")


def usd_may_not_pay(
    plan: IterationPlan, budget_usd: float | None, *, batched: bool = False, option: str = "budget_usd"
) -> str | None:
    """What to say, before any call, of a budget in dollars that iteration 0's validation pass may exceed
    (priced as `--dry-run` prices it, every reply at max_tokens: an upper bound, often far above the cost);
    None when it surely pays, or when the forward model has no known price (nothing can be checked). It is a
    warning, not a refusal: no estimate made before the calls bounds their cost from below (a prompt's
    upstream-written inputs are guesses), and the pass is paid in full either way. `option` is the budget's
    name where the caller gave it (the CLI's --budget-usd)."""
    if budget_usd is None or price_for(plan.forward_model) is None:
        return None
    shape = shape_of(
        plan.program, trainset=plan.trainset, samples_per_label=plan.samples_per_label,
        forward_model=plan.forward_model, optimizer_model=plan.optimizer_model, steps=0,
    )  # fmt: skip
    if shape is None:  # no module calls a model
        return None
    phase = attrs.evolve(shape.forward("validate", plan.valset_size), batched=batched)  # as estimate_compile has it
    if budget_usd >= phase.max_usd:
        return None
    most = math.ceil(phase.max_usd * 10_000) / 10_000  # to 4 places, rounded up: a budget of it does pay
    return (
        f"{option}={budget_usd} may not pay for iteration 0's validation ({phase.calls} calls, up to ${most:.4f} "
        "with every reply at max_tokens); that pass is paid in full, and the run stops after it if nothing is left"
    )


# -- a budget of forward calls (max_metric_calls) ---------------------------------------------

METRIC_CALL_LEVELS = {"light": 8, "medium": 20, "heavy": 50}  # full validation passes each allows


def metric_calls(max_metric_calls: int | str | None, *, validation_pass: int) -> int | None:
    """The budget in forward calls: a number as given, or "light", "medium" or "heavy" as 8, 20 or 50
    validation passes (`validation_pass`: the valset's size times the modules one example runs through)."""
    if max_metric_calls is None or isinstance(max_metric_calls, int):
        return max_metric_calls
    return METRIC_CALL_LEVELS[max_metric_calls] * validation_pass


def check_metric_calls(max_metric_calls: int | str | None) -> None:
    """Refuses anything but None, a whole number of calls (1 or more) or one of the levels."""
    whole = isinstance(max_metric_calls, int) and not isinstance(max_metric_calls, bool)
    if max_metric_calls is None or max_metric_calls in METRIC_CALL_LEVELS or (whole and max_metric_calls >= 1):
        return
    raise ValueError(
        f"max_metric_calls must be a number of calls (1 or more) or one of {', '.join(METRIC_CALL_LEVELS)}, "
        f"not {max_metric_calls!r}"
    )


@attrs.define
class Tally:
    """A count shared by the counting layers of one run."""

    count: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)

    def add(self) -> None:
        with self._lock:
            self.count += 1


@attrs.define
class CountingLM(Wraps):
    """The forward model, counting every call made through it. Cache hits count too, so the count
    (and the path of a run with a budget) is the same whether or not the answers were cached; a
    failed call counts (it was sent). Through Message Batches the executor keeps this layer above
    its collector (a Watcher), so a call counts once, when its answer is handed to the program,
    exactly as on threads."""

    inner: LM
    tally: Tally = attrs.field(factory=Tally)

    @property
    def count(self) -> int:
        return self.tally.count

    @count.setter
    def count(self, value: int) -> None:
        self.tally.count = value

    def complete(self, request: Request) -> Response:
        try:
            response = self.inner.complete(request)
        except Exception:  # not a batch collector's Deferred (a BaseException): that call is counted when answered
            self.tally.add()
            raise
        self.tally.add()
        return response

    def over(self, lm: LM) -> CountingLM:
        return CountingLM(lm, tally=self.tally)


@attrs.define
class Rollouts:
    """A run's forward calls so far, and the most it may send (None: no limit)."""

    lm: CountingLM
    limit: int | None
    per_example: int  # the modules one example runs through: the calls it may take
    validation: int  # the calls of one validation pass, at most
    optimizer_calls: int  # the optimizer's own forward calls in one step, at most, from its estimate

    @classmethod
    def plan(cls, plan: IterationPlan, lm: LM, max_metric_calls: int | str | None) -> Rollouts:
        per_example = modules_in(plan.program)
        validation = plan.valset_size * per_example
        return cls(
            lm=CountingLM(lm),
            limit=metric_calls(max_metric_calls, validation_pass=validation),
            per_example=per_example,
            validation=validation,
            optimizer_calls=optimizer_forward_calls(plan, per_example),
        )

    @property
    def spent(self) -> int:
        return self.lm.count

    def restore(self, spent: int) -> None:
        self.lm.count = spent

    def bound(self, minibatch: int) -> int:
        """The most one iteration can send: its minibatch, the optimizer's forward calls, a validation pass."""
        return minibatch * self.per_example + self.optimizer_calls + self.validation

    def refusal(self, iteration: int, minibatch: int) -> str | None:
        """Why the iteration may not run (it could pass the limit), or None when it may."""
        bound = self.bound(minibatch)
        if self.limit is None or self.lm.count + bound <= self.limit:
            return None
        return f"max_metric_calls: spent {self.lm.count} of {self.limit}; iteration {iteration} could take up to {bound} more"


def unaffordable(
    plan: IterationPlan,
    max_metric_calls: int | str | None,
    *,
    iterations: int | None,
    option: str = "max_metric_calls",
) -> str | None:
    """Why a budget of forward calls cannot pay for what the run is for, known before any call: iteration
    0's validation, and then (unless no iteration is asked for) one iteration at its upper bound. `option`
    is the budget's name where the caller gave it (the CLI's --max-metric-calls)."""
    per_example = modules_in(plan.program)
    validation = plan.valset_size * per_example
    limit = metric_calls(max_metric_calls, validation_pass=validation)
    if limit is None:
        return None
    given = f"{option}={max_metric_calls} ({limit} forward calls)"
    if limit < validation:
        return (
            f"{given} cannot pay for one validation pass ({validation} calls): raise it, or validate on fewer examples"
        )
    first = first_iteration_bound(plan, per_example)
    if iterations != 0 and limit < validation + first:
        return (
            f"{given} pays for iteration 0's validation ({validation} calls) but no iteration after it (each could "
            f"take up to {first} more): raise it to at least {validation + first}, or validate on fewer examples"
        )
    return None


def first_iteration_bound(plan: IterationPlan, per_example: int) -> int:
    """The most one iteration can send, as compile bounds it: minibatch, the optimizer's calls, validation."""
    sample = len(stratified_sample(plan.trainset, plan.samples_per_label, seed=0))
    minibatch = as_optimizer(plan.optimizer).minibatch_size(sample) * per_example
    return minibatch + optimizer_forward_calls(plan, per_example) + plan.valset_size * per_example


def iterations_at_most(plan: IterationPlan, budget: int, *, validated: bool = False) -> int:
    """The most iterations a budget of forward calls can pay for (after iteration 0's validation, unless
    `validated` says it is paid already), for a dry run's upper bound on the optimizer model's calls.

    Every iteration that calls the optimizer model sends its training minibatch first; a child
    that is turned down costs no more than that, so the cheapest iterations are minibatch-only.
    An optimizer that takes no minibatch (KNNDemos) is not bounded so: the iterations that
    surely fit (each at its most) are priced instead.
    """
    per_example = modules_in(plan.program)
    validation = 0 if validated else plan.valset_size * per_example
    sample = len(stratified_sample(plan.trainset, plan.samples_per_label, seed=0))
    minibatch = as_optimizer(plan.optimizer).minibatch_size(sample) * per_example
    cheapest = minibatch if minibatch else first_iteration_bound(plan, per_example)
    return max(budget - validation, 0) // cheapest


def optimizer_forward_calls(plan: IterationPlan, per_example: int) -> int:
    """The forward calls the optimizer's estimate gives one step, counted per example through every module."""
    shape = shape_of(
        plan.program,
        trainset=plan.trainset,
        samples_per_label=plan.samples_per_label,
        forward_model=plan.forward_model,
        optimizer_model=plan.optimizer_model,
        steps=1,
    )
    if shape is None:
        return 0
    calls = sum(phase.calls for phase in as_optimizer(plan.optimizer).estimate(shape) if phase.forward)
    return math.ceil(calls / len(shape.modules)) * per_example  # estimates count prompt modules; nested ones too here
