"""Optimizers: they change a program's trainable values from what a training step showed.

Every optimizer has the same `step(program, *, traces, evaluation, context)`, so trying
another is one argument to `compile()`.
"""

from promptgraph.optimizers.base import Optimizer, StepContext, StepResult, Tried, Update
from promptgraph.optimizers.beam import BeamSearch
from promptgraph.optimizers.chain import Chain
from promptgraph.optimizers.demos import BootstrapDemos, DemoSearch
from promptgraph.optimizers.opro import OPRO
from promptgraph.optimizers.propose import ProposeInstructions
from promptgraph.optimizers.tgd import Gate, TextualGradientDescent

__all__ = [
    "OPRO",
    "BeamSearch",
    "BootstrapDemos",
    "Chain",
    "DemoSearch",
    "Gate",
    "Optimizer",
    "ProposeInstructions",
    "StepContext",
    "StepResult",
    "TextualGradientDescent",
    "Tried",
    "Update",
]
