"""Function: a plain Python step in a program (retrieval, formatting, lookups), no parameters.

It has nothing to train, so backward does not call a critic for it: the feedback that
reaches its outputs passes through unchanged to the modules that produced its inputs,
labelled as passed through. An exception in the function is a `failed` outcome for that
example, with the error recorded, not a crash of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from promptgraph.module import Context, Module
from promptgraph.parameter import Feedback
from promptgraph.references import reference_of
from promptgraph.trace import FAILED, OK, Outcome


class Function(Module):
    """A plain Python step of a program (retrieval, formatting): nothing to train, feedback passes through.

    The function is called with the inputs as keywords and returns the output (one output) or a
    mapping of outputs; an exception marks that example `failed`, the run goes on.
    Example: `pg.Function(lambda text: text.strip(), inputs=("text",), outputs=("clean",))`
    """

    reference_fields = ("function",)
    passes_feedback = True  # deprecated: the old flag for what pass_feedback now says; kept for one release

    def __init__(
        self, function: Callable[..., Any], *, inputs: Sequence[str], outputs: Sequence[str], description: str = ""
    ):
        if not callable(function):
            raise TypeError(f"Function needs a callable, got {function!r}")
        self.function = function
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.description = description or f"computes {', '.join(self.outputs)} from {', '.join(self.inputs)} in Python"

    def forward(self, inputs: dict[str, Any], ctx: Context) -> Outcome:
        try:
            result = self.function(**inputs)
        except Exception as error:  # the user's code: record it per example, keep the run going
            return Outcome(
                FAILED, error=f"{type(error).__name__} in {getattr(self.function, '__name__', 'function')}: {error}"
            )
        if len(self.outputs) == 1 and not isinstance(result, Mapping):
            return Outcome(OK, outputs={self.outputs[0]: result})
        missing = [name for name in self.outputs if not isinstance(result, Mapping) or name not in result]
        if missing:
            return Outcome(FAILED, error=f"the function returned no {', '.join(missing)}")
        return Outcome(OK, outputs={name: result[name] for name in self.outputs})

    def pass_feedback(self, received: Sequence[Feedback]) -> dict[str, list[Feedback]]:
        """Nothing here to judge: every input gets all the feedback on the outputs, as it came."""
        return {field: list(received) for field in self.inputs}

    def config(self) -> dict[str, Any]:
        return {
            "function": reference_of(self.function),
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "description": self.description,
        }

    def __repr__(self) -> str:
        name = getattr(self.function, "__qualname__", None) or repr(self.function)
        return f"Function({name}, inputs={list(self.inputs)}, outputs={list(self.outputs)})"
