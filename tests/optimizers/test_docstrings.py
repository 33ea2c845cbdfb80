"""`help()` on an exported optimizer says what it does, what a step costs and what each argument means."""

import inspect
import re

import pytest

import promptgraph as pg
from promptgraph.optimizers.base import Optimizer

OPTIMIZERS = sorted(
    name for name in pg.__all__ if inspect.isclass(getattr(pg, name)) and issubclass(getattr(pg, name), Optimizer)
)


def documented(doc: str) -> set[str]:
    """The names an `Args:` section describes, one `name: what it is` line each, indented once."""
    section = doc.split("Args:", 1)[1] if "Args:" in doc else ""
    return set(re.findall(r"^ {4}(\w+): ", section, flags=re.MULTILINE))


def test_the_optimizers_found_are_the_ones_users_reach_for():
    assert {"TextualGradientDescent", "BeamSearch", "ParetoSearch", "OPRO", "BootstrapDemos", "Chain"} <= set(
        OPTIMIZERS
    )


@pytest.mark.parametrize("name", [*OPTIMIZERS, "Gate"])
def test_an_optimizers_docstring_names_every_constructor_argument(name):
    optimizer = getattr(pg, name)
    arguments = set(inspect.signature(optimizer).parameters)
    assert arguments - documented(inspect.getdoc(optimizer) or "") == set()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_optimizers_docstring_says_what_a_step_costs(name):
    assert "step cost" in (inspect.getdoc(getattr(pg, name)) or "")
