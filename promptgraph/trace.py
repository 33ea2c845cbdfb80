"""What one example did at every node: the record the critic and the report read.

A node ends in one of three states: `ok` (its outputs were read), `unparsed` (the model
answered but the parser could not read the answer) or `failed` (no answer: the call
failed after retries, or an input it needed was missing). Unparsed and failed are
outcomes to count and show, never crashes and never silently a real label.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs

from promptgraph.data import Example
from promptgraph.lm import Request, Response, Usage
from promptgraph.lm.reprs import listed, short, short_mapping

OK = "ok"
UNPARSED = "unparsed"
FAILED = "failed"


@attrs.frozen
class Outcome:
    """What a module's forward returns for one example."""

    status: str
    outputs: dict[str, Any] = attrs.field(factory=dict)
    request: Request | None = None
    response: Response | None = None
    error: str | None = None
    # Failed for want of an input because an upstream node did not answer: that node's own error
    # ("'extract' failed: ... 401 ..."), carried down the graph so the root cause is not lost.
    cause: str | None = None

    @property
    def root_error(self) -> str | None:
        """Why there is no answer: the upstream error it comes from, if any, else its own."""
        return self.cause or self.error

    def __repr__(self) -> str:
        """The status and outputs, the start of the reply and of any error; the request is in its field."""
        return f"Outcome(status={self.status!r}{_outputs_and_error(self)})"


@attrs.frozen
class NodeTrace:
    node: str
    inputs: dict[str, Any]
    outcome: Outcome

    @property
    def status(self) -> str:
        return self.outcome.status

    @property
    def outputs(self) -> dict[str, Any]:
        return self.outcome.outputs

    @property
    def response_text(self) -> str | None:
        return self.outcome.response.text if self.outcome.response else None

    def __repr__(self) -> str:
        """The inputs by name (their texts are in `inputs`), the status and outputs, the start of any error."""
        inputs = listed(self.inputs)
        return (
            f"NodeTrace(node={self.node!r}, inputs={inputs}, status={self.status!r}{_outputs_and_error(self.outcome)})"
        )


def _outputs_and_error(outcome: Outcome) -> str:
    reply = f", reply={short(outcome.response.text)}" if outcome.response is not None and not outcome.outputs else ""
    outputs = f", outputs={short_mapping(outcome.outputs, shown=2)}" if outcome.outputs else ""
    error = f", error={short(outcome.error)}" if outcome.error else ""
    return f"{outputs}{reply}{error}"


@attrs.frozen
class Trace:
    """What one example did at every node of a program: inputs, request, reply, parsed outputs, status.

    `program.run(examples, lm=lm)` returns one per example. `trace.prediction` is the answer,
    `trace.nodes["classify"].response_text` the raw reply (DSPy's `inspect_history`), and
    `pg.evaluate(traces, metric=...)` scores a list of them.
    """

    example: Example
    nodes: dict[str, NodeTrace]  # in the order the nodes ran
    output: str  # "node.field" of the program's answer

    @property
    def final(self) -> NodeTrace:
        return self.nodes[self.output.split(".", 1)[0]]

    @property
    def status(self) -> str:
        return self.final.status

    @property
    def prediction(self) -> Any:
        """The program's answer, or None when the final node did not produce one."""
        return self.final.outputs.get(self.output.split(".", 1)[1]) if self.status == OK else None

    @property
    def outputs(self) -> dict[str, Any]:
        """Every output of the final node, typed as its signature says (empty unless it is ok)."""
        return dict(self.final.outputs) if self.status == OK else {}

    def __getattr__(self, name: str) -> Any:
        """`trace.label`, `trace.answer`: the final node's outputs by name, as DSPy's Prediction gives them."""
        if name.startswith("_"):
            raise AttributeError(name)
        outputs = self.outputs
        if name in outputs:
            return outputs[name]
        known = ", ".join(self.final.outputs) if self.status == OK else f"none: the final node is {self.status}"
        raise AttributeError(f"the program's answer has no output {name!r} (its outputs: {known})")

    def usage(self) -> Usage:
        total = Usage()
        for node in self.nodes.values():
            if node.outcome.response is not None and not node.outcome.response.cached:
                total = total + node.outcome.response.usage
        return total

    def __repr__(self) -> str:
        example = repr(self.example.id) if self.example.id else repr(self.example)
        prediction = short(self.prediction) if self.prediction is not None else "None"
        return f"Trace(example={example}, nodes={list(self.nodes)}, status={self.status!r}, prediction={prediction})"


@attrs.frozen(eq=False)
class Prediction:
    """What `program(inputs)` returns: the final node's outputs by attribute (`.label`, `.answer`),
    the answer itself as `.value`, and the whole `.trace` a step away."""

    trace: Trace = attrs.field(repr=False)

    @property
    def value(self) -> Any:
        return self.trace.prediction

    @property
    def outputs(self) -> dict[str, Any]:
        return self.trace.outputs

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.trace, name)

    def __eq__(self, other: object) -> bool:
        """Compared with a plain value, as the answer was before predictions were records (for one release)."""
        if isinstance(other, Prediction):
            return self.trace is other.trace
        warnings.warn(
            "program(...) returns a Prediction now: compare its .value or an output such as .label",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.value == other

    __hash__ = None  # compared by value for one release, so not hashable

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        status = self.trace.status
        shown = ", ".join(f"{name}={short(value)}" for name, value in self.outputs.items()) or f"status={status!r}"
        return f"Prediction({shown})"
