"""Chain: several optimizers in one step, each on the program the one before it left.

Instruction and demo optimization work on different parameters, so they combine:
`Chain(TextualGradientDescent(lm=strong), BootstrapDemos())` rewrites the texts, then
chooses demos for the rewritten program, every step. The traces handed to the later
optimizers are the step's own, from before the earlier ones changed anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from promptgraph.data import Example
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import Optimizer, StepContext, StepResult, as_optimizer
from promptgraph.phases import PhaseEstimate, Shape
from promptgraph.program import Program
from promptgraph.trace import Trace


class Chain(Optimizer):
    """Several optimizers in one step, each on the program the one before it left.

    `Chain(TextualGradientDescent(lm=strong), BootstrapDemos())` rewrites the texts, then
    chooses demos for the rewritten program, every step. A step costs the sum of its
    optimizers' steps; the chain stops when the last of them has.

    Args:
        optimizers: the optimizers, in the order each step runs them (given as positional arguments).
    """

    __slots__ = ("optimizers",)

    def __init__(self, *optimizers: Optimizer):
        if not optimizers:
            raise ValueError("Chain needs at least one optimizer")
        self.optimizers = tuple(as_optimizer(optimizer) for optimizer in optimizers)

    def called_model(self) -> str | None:
        """The model of the first of its optimizers that calls one (TGD's in TGD + demos)."""
        return next((model for optimizer in self.optimizers if (model := optimizer.called_model()) is not None), None)

    def trains(self) -> frozenset[str]:
        return frozenset().union(*(optimizer.trains() for optimizer in self.optimizers))

    def cannot_train(self, program: Program) -> str | None:
        """Each of its optimizers must have something to train: one that has not would pay for nothing."""
        return next((why for optimizer in self.optimizers if (why := optimizer.cannot_train(program))), None)

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        critiques, updates, tried, stopped, no_minibatch = [], [], [], [], []
        for optimizer in self.optimizers:
            result = optimizer.step(program, traces=traces, evaluation=evaluation, context=context)
            critiques += result.critiques
            updates += result.updates
            tried += result.tried
            stopped += [result.stopped] if result.stopped else []
            no_minibatch += [result.no_minibatch] if result.no_minibatch else []
        every_one = len(stopped) == len(self.optimizers)  # the chain stops when the last of its optimizers has
        return StepResult(
            critiques=tuple(critiques),
            updates=tuple(updates),
            tried=tuple(tried),
            stopped="; ".join(stopped) if every_one else None,
            no_minibatch="; ".join(no_minibatch) or None,
        )

    def begin_step(self, program: Program, context: StepContext) -> Sequence[Example] | None:
        """Each optimizer in turn; the first that names the step's examples chooses them."""
        chosen = [optimizer.begin_step(program, context) for optimizer in self.optimizers]
        return next((examples for examples in chosen if examples is not None), None)

    def validated(self, iteration: int, program: Program, evaluation: Evaluation) -> None:
        for optimizer in self.optimizers:
            optimizer.validated(iteration, program, evaluation)

    def undone(self, values: Mapping[str, str]) -> None:
        for optimizer in self.optimizers:
            optimizer.undone(values)

    def state(self) -> dict:
        return {"optimizers": [optimizer.state() for optimizer in self.optimizers]}

    def restore(self, state: dict) -> None:
        for optimizer, saved in zip(self.optimizers, state["optimizers"], strict=True):
            if saved is not None:
                optimizer.restore(saved)

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        return [phase for optimizer in self.optimizers for phase in optimizer.estimate(shape)]

    def __repr__(self) -> str:
        return f"Chain({', '.join(map(repr, self.optimizers))})"
