"""Module: a step of a program with named inputs, named outputs and trainable Parameters.

Parameters are found by walking the module's attributes, as DSPy does, and named by
their path (`system`, `steps.0.prefix`); a program prefixes them with the node name
(`classify.system`). Modules are plain classes rather than attrs classes so that users
can subclass them without decorators; they hold no LM: the LM arrives in the Context.
"""

from __future__ import annotations

import abc
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from promptgraph.lm import LM, Ledger, Request, Response, call
from promptgraph.parameter import Demos, Parameter
from promptgraph.trace import Outcome


@attrs.frozen
class Context:
    """What a forward pass runs with: the forward LM, the run's ledger, the rollout seed."""

    lm: LM
    ledger: Ledger | None = None
    seed: int = 0
    tag: str = "forward"

    def complete(self, request: Request) -> Response:
        """Call the LM for a module; raises LMError when the call fails for good."""
        return call(self.lm, attrs.evolve(request, seed=self.seed, tag=self.tag), ledger=self.ledger)


class Module(abc.ABC):
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    description: str = ""  # one sentence the critic reads: what this step is for

    @property
    def answer(self) -> str:
        """The output that is this module's answer when it ends a program (ChainOfThought: not its reasoning)."""
        return self.outputs[0]

    @abc.abstractmethod
    def forward(self, inputs: dict[str, Any], ctx: Context) -> Outcome:
        """Run on one example's inputs; failures are returned as an Outcome, not raised."""

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every Parameter reachable from this module's attributes, in definition order."""
        yield from _walk(vars(self), prefix, Parameter, "named_parameters")

    def named_demos(self, prefix: str = "") -> Iterator[tuple[str, Demos]]:
        """Every set of few-shot Demos reachable from this module's attributes."""
        yield from _walk(vars(self), prefix, Demos, "named_demos")

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def trainable_parameters(self) -> list[Parameter]:
        return [parameter for parameter in self.parameters() if parameter.trainable]

    def freeze(self) -> Module:
        for parameter in self.parameters():
            parameter.trainable = False
        for _, demos in self.named_demos():
            demos.trainable = False
        return self

    def check(self, values: dict[str, str]) -> list[str]:
        """Problems with candidate values (keyed by local parameter path); none by default."""
        return []

    def config(self) -> dict[str, Any]:
        """The constructor arguments, besides parameter values, that rebuild this module from JSON."""
        raise TypeError(f"{type(self).__name__} cannot be saved on its own: build it in code and load its values")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Module:
        """The inverse of `config()`; modules holding functions import them again here."""
        return cls(**config)


def reference_of(function: Callable | None) -> str | None:
    """`package.module:name` of a function a saved program can import again (None stays None)."""
    if function is None:
        return None
    module, name = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if not module or "<" in name or module == "__main__" or importlib.util.find_spec(module) is None:
        raise TypeError(
            f"{function!r} cannot be saved by name: define it as a top-level function in a module Python can "
            "import (a package, or a file on PYTHONPATH), or rebuild the program in code and load only its "
            "values with program.load_values(path)"
        )
    return f"{module}:{name}"


def import_reference(reference: str | None) -> Any:
    """The object a `package.module:name` reference names; ImportError when it cannot be found."""
    if reference is None:
        return None
    module_name, _, name = str(reference).partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in name.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError) as error:
        raise ImportError(f"cannot import {reference!r} ({error}); is the package that defines it installed?") from None
    return target


def _walk(attributes: dict[str, Any], prefix: str, kind: type, method: str) -> Iterator[tuple[str, Any]]:
    for name, value in attributes.items():
        if name.startswith("_"):
            continue
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, kind):
            yield path, value
        elif isinstance(value, Module):
            yield from getattr(value, method)(path)
        elif isinstance(value, (list, tuple)):
            yield from _walk({str(index): item for index, item in enumerate(value)}, path, kind, method)
