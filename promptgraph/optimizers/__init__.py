"""Optimizers: they change a program's trainable values from what a training step showed.

Every optimizer subclasses `Optimizer` (base.py): the same `step(program, *, traces,
evaluation, context)`, so trying another is one argument to `compile()`, and the same
`undone`, `state`/`restore` and `estimate`, with safe defaults. A new optimizer is one
file here and its line below (and a line in cli/train.py's OPTIMIZERS to offer it there).
"""

from promptgraph.optimizers.base import Optimizer, StepContext, StepResult, Tried, Update
from promptgraph.optimizers.beam import BeamSearch
from promptgraph.optimizers.chain import Chain
from promptgraph.optimizers.demos import BootstrapDemos, DemoSearch
from promptgraph.optimizers.knn import KNNDemos
from promptgraph.optimizers.opro import OPRO
from promptgraph.optimizers.pareto import ParetoSearch
from promptgraph.optimizers.pool import Candidate, Pool
from promptgraph.optimizers.propose import ProposeInstructions
from promptgraph.optimizers.tgd import Gate, TextualGradientDescent

__all__ = [
    "OPRO",
    "BeamSearch",
    "BootstrapDemos",
    "Candidate",
    "Chain",
    "DemoSearch",
    "Gate",
    "KNNDemos",
    "Optimizer",
    "ParetoSearch",
    "Pool",
    "ProposeInstructions",
    "StepContext",
    "StepResult",
    "TextualGradientDescent",
    "Tried",
    "Update",
]
