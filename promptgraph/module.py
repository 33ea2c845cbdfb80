"""Module: a step of a program with named inputs, named outputs and trainable Parameters.

Parameters are found by walking the module's attributes, as DSPy does, and named by
their path (`system`, `steps.0.prefix`); a program's children are its nodes, so a
program prefixes them with the node name (`classify.system`, and `stage.classify.system`
once that program is a stage of another). A name is computed by the walk, never stored:
it cannot go stale when a program is nested. A parameter reachable by two paths is found
once, at the first. Modules are plain classes rather than attrs classes so that users
can subclass them without decorators; they hold no LM: the LM arrives in the Context.
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from promptgraph.lm import LM, Ledger, Request, Response, call
from promptgraph.parameter import Demos, Feedback, Parameter
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
    """The base of every step of a program: named inputs and outputs, trainable Parameters, a `forward`.

    Parameters are found by walking its attributes and named by path (`classify.system`);
    `forward(inputs, ctx)` returns an Outcome and never raises for a failed call. Subclass it for
    a step of your own; `pg.Program.of(module)` runs one module on examples.
    """

    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    description: str = ""  # one sentence the critic reads: what this step is for
    reference_fields: tuple[str, ...] = ()  # config fields that name a function; the loader resolves them

    @property
    def answer(self) -> str:
        """The output that is this module's answer when it ends a program (ChainOfThought: not its reasoning)."""
        return self.outputs[0]

    @abc.abstractmethod
    def forward(self, inputs: dict[str, Any], ctx: Context) -> Outcome:
        """Run on one example's inputs; failures are returned as an Outcome, not raised."""

    def named_children(self) -> Iterator[tuple[str, Any]]:
        """What this module holds, by name: where the walk for parameters and demos goes next."""
        for name, value in vars(self).items():
            if not name.startswith("_"):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(path, Parameter) for every Parameter reachable from this module, in definition order, each once."""
        yield from _walk(self, prefix, Parameter)

    def named_demos(self, prefix: str = "") -> Iterator[tuple[str, Demos]]:
        """(path, Demos) for every set of few-shot Demos reachable from this module, each once."""
        yield from _walk(self, prefix, Demos)

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

    def pass_feedback(self, received: Sequence[Feedback]) -> Mapping[str, Sequence[Feedback]] | None:
        """How feedback on this module's outputs reaches its inputs, input by input, with no critic.

        None (the default): a critic reads this module's traces and writes what each input should
        change. A module with nothing to judge (a Python Function) hands the feedback on instead.
        """
        if getattr(self, "passes_feedback", False):  # the old spelling: a flag that meant "hand it all on"
            warnings.warn(
                f"{type(self).__name__}.passes_feedback is deprecated; override Module.pass_feedback instead",
                DeprecationWarning,
                stacklevel=2,
            )
            return {field: list(received) for field in self.inputs}
        return None

    def check(self, values: dict[str, str]) -> list[str]:
        """Problems with candidate values (keyed by local parameter path); none by default."""
        return []

    def config(self) -> dict[str, Any]:
        """The constructor arguments, besides parameter values, that rebuild this module from JSON."""
        raise TypeError(f"{type(self).__name__} cannot be saved on its own: build it in code and load its values")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Module:
        """The inverse of `config()`; the loader has already turned `reference_fields` back into functions."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(inputs={list(self.inputs)}, outputs={list(self.outputs)})"


def _walk(module: Module, prefix: str, kind: type) -> Iterator[tuple[str, Any]]:
    """(path, item) for every `kind` reachable from the module; an item (or a module) met again is skipped."""
    seen: set[int] = set()

    def visit(value: Any, path: str) -> Iterator[tuple[str, Any]]:
        if id(value) in seen:
            return
        if isinstance(value, kind):
            seen.add(id(value))
            yield path, value
        elif isinstance(value, Module):
            seen.add(id(value))  # also stops a module that holds its parent from walking forever
            for name, child in value.named_children():
                yield from visit(child, f"{path}.{name}" if path else name)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                yield from visit(item, f"{path}.{index}" if path else str(index))

    yield from visit(module, prefix)
