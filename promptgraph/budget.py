"""What the next iteration of a run will likely cost, so a budget can stop the run before it."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from promptgraph.data import Example
from promptgraph.estimate import PhaseEstimate, estimate_compile
from promptgraph.history import IterationRecord
from promptgraph.lm import Usage
from promptgraph.optimizers.base import Optimizer
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
        if phase.model == plan.forward_model:  # scoring candidates: priced like the validation pass
            likely += validation * phase.calls / max(by_phase["validate"].calls / 2, 1)
        else:  # the optimizer's structured calls: half of them are repairs
            calls = phase.calls // 2
            likely += Usage(input_tokens=phase.input_tokens // 2, output_tokens=1000 * calls).cost(phase.model)
    return likely
