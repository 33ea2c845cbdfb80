"""Optimizers: they rewrite a program's trainable texts from feedback."""

from promptgraph.optimizers.tgd import TextualGradientDescent, Update

__all__ = ["TextualGradientDescent", "Update"]
