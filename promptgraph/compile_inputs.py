"""What compile refuses before it writes or pays for anything: arguments of the wrong kind, in one line each.

A DSPy user's habits (a bare module for a program, a model's name for an LM) are met with a
line that says what to pass instead, never an AttributeError from deep inside a run. The
examples themselves are checked in data.py (`checked_examples`), the metric in metrics.py
(`check_metric`), the budgets in budget.py.
"""

from __future__ import annotations

import logging
import numbers
from pathlib import Path
from typing import Any

from promptgraph.errors import ArgumentError, PromptgraphError
from promptgraph.module import Module
from promptgraph.program import Program
from promptgraph.signature import from_text

logger = logging.getLogger(__name__)


class NothingToTrain(ValueError, PromptgraphError):
    """The optimizer would change nothing: the program has none of what it trains (every text frozen, or none)."""


def as_program(program: object) -> Program:
    """The Program to train; a bare module (`compile(pg.Classify(...))`) is wrapped as `Program.of` wraps it."""
    if isinstance(program, Program):
        return program
    if isinstance(program, Module):  # one way to read it: the one-module program Program.of makes, node "main"
        logger.info("compile was given a %s, not a Program: training Program.of(it)", type(program).__name__)
        return Program.of(program)
    raise ArgumentError(
        f"program must be a pg.Program (or a module, e.g. pg.Classify(...)), not a {type(program).__name__}"
    )


def as_answer(program: Program, label: Any) -> Any:
    """An expected label as the program's answer is typed (a whole number for an int output): what the metric
    is given for a right answer. A label that does not read as one, or an answer of no known type, is as given."""
    node, _, name = program.output.partition(".")
    signature = getattr(program.nodes[node], "signature", None)
    field = next((field for field in signature.outputs if field.name == name), None) if signature else None
    if field is None or not isinstance(label, str):
        return label
    try:
        return from_text(field, label)
    except ValueError:  # the metric will meet this label as it is; compile does not judge the data here
        return label


def check_lm(lm: object, *, argument: str = "lm") -> None:
    """A model's name is not a model: the line says which object to pass."""
    if isinstance(lm, str):
        raise ArgumentError(f"{argument}={lm!r} is a model's name: pass {argument}=pg.AnthropicLM(model={lm!r})")
    if not callable(getattr(lm, "complete", None)) or not isinstance(getattr(lm, "model", None), str):
        raise ArgumentError(
            f"{argument} must be a model such as pg.AnthropicLM(model=...), with complete(request) and a model "
            f"name, not a {type(lm).__name__}"
        )


def check_counts(*, iterations: int | None, samples_per_label: int) -> None:
    """Each count refused on its own, naming it."""
    if iterations is not None and (not _whole(iterations) or iterations < 0):
        raise ArgumentError(f"iterations must be >= 0 (0 only scores the program as given), not {iterations!r}")
    if not _whole(samples_per_label) or samples_per_label < 1:
        raise ArgumentError(f"samples_per_label must be >= 1, not {samples_per_label!r}")


def check_run_dir(run_dir: Path | None) -> None:
    if run_dir is not None and run_dir.exists() and not run_dir.is_dir():
        raise ArgumentError(f"run_dir {run_dir} is a file, not a directory: give a directory for the run's checkpoints")


def _whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # a numpy int too, not True
