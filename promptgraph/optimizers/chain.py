"""Chain: several optimizers in one step, each on the program the one before it left.

Instruction and demo optimization work on different parameters, so they combine:
`Chain(TextualGradientDescent(lm=strong), BootstrapDemos())` rewrites the texts, then
chooses demos for the rewritten program, every step. The traces handed to the later
optimizers are the step's own, from before the earlier ones changed anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import Optimizer, StepContext, StepResult
from promptgraph.program import Program
from promptgraph.trace import Trace


class Chain:
    def __init__(self, *optimizers: Optimizer):
        if not optimizers:
            raise ValueError("Chain needs at least one optimizer")
        self.optimizers = optimizers

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        critiques, updates, tried = [], [], []
        for optimizer in self.optimizers:
            result = optimizer.step(program, traces=traces, evaluation=evaluation, context=context)
            critiques += result.critiques
            updates += result.updates
            tried += result.tried
        return StepResult(tuple(critiques), tuple(updates), tuple(tried))

    def state(self) -> dict:
        return {"optimizers": [o.state() if hasattr(o, "state") else None for o in self.optimizers]}

    def restore(self, state: dict) -> None:
        for optimizer, saved in zip(self.optimizers, state["optimizers"], strict=True):
            if saved is not None and hasattr(optimizer, "restore"):
                optimizer.restore(saved)

    def __repr__(self) -> str:
        return f"Chain({', '.join(map(repr, self.optimizers))})"
