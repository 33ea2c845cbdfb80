"""Optimizers: they change a program's trainable values from what a training step showed."""

from promptgraph.optimizers.base import Optimizer, StepContext, StepResult, Update
from promptgraph.optimizers.demos import DemoSearch
from promptgraph.optimizers.tgd import TextualGradientDescent

__all__ = ["DemoSearch", "Optimizer", "StepContext", "StepResult", "TextualGradientDescent", "Update"]
