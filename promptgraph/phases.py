"""What a phase of a run will cost, and what of the program and the data a cost is estimated from.

`estimate.py` measures the program and the data once into a `Shape`; each optimizer prices
its own calls from it (`Optimizer.estimate`), so a new optimizer brings its own estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from promptgraph.data import Example
from promptgraph.lm.base import Usage

if TYPE_CHECKING:
    from promptgraph.modules.prompt import Prompt

CRITIC_OVERHEAD_TOKENS = 1500  # the critic's instructions, roles and metrics
REWRITE_OVERHEAD_TOKENS = 1000
PROPOSE_OVERHEAD_TOKENS = 800


@attrs.frozen
class PhaseEstimate:
    phase: str
    model: str
    calls: int
    input_tokens: int
    max_output_tokens: int
    batched: bool = False  # sent through Message Batches, at half price
    forward: bool = False  # calls of the forward model (Shape.forward): a forward-call budget counts them

    @property
    def max_usd(self) -> float:
        usage = Usage(input_tokens=self.input_tokens, output_tokens=self.max_output_tokens)
        return usage.cost(self.model, batched=self.batched)


@attrs.frozen
class Shape:
    """What the optimizer estimates need to know of the program and the data."""

    modules: list[Prompt]
    trainset: Sequence[Example]
    labels: int
    minibatch: int
    per_example_in: int
    per_example_out: int
    forward_model: str
    optimizer_model: str
    steps: int  # the optimizer steps to price (compile's iterations)

    @property
    def trainable(self) -> list[Prompt]:
        return [module for module in self.modules if any(p.trainable for p in module.parameters())]

    def forward(self, phase: str, examples: int, *, demos: int = 0) -> PhaseEstimate:
        calls = examples * len(self.modules)
        tokens_in = calls * self.per_example_in * (1 + demos)
        return PhaseEstimate(
            phase=phase,
            model=self.forward_model,
            calls=calls,
            input_tokens=tokens_in,
            max_output_tokens=calls * self.per_example_out,
            forward=True,
        )

    def strong(self, phase: str, calls: int, tokens_in: int, tokens_out: int) -> PhaseEstimate:
        return PhaseEstimate(
            phase=phase,
            model=self.optimizer_model,
            calls=calls,
            input_tokens=calls * tokens_in,
            max_output_tokens=calls * tokens_out,
        )
