"""promptgraph's own names: what a saved program may name without the user trusting its code.

A program.json names its module types (`promptgraph.modules.classify:Classify`) and
functions (a Function's `function`, a parser). Loading looks each name up here and never
imports a name taken from a file, unless the user opted in with `trust_code=True`
(`--trust-code` on the command line): then the old rule applies, import it and check it
is a Module subclass or a function. Everything here is built from the classes once and
is read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from promptgraph import program_schema as schema
from promptgraph.errors import PromptgraphError
from promptgraph.module import Module
from promptgraph.modules import ChainOfThought, Classify, Function, Generate, Prompt, read_label_tag
from promptgraph.program import Program
from promptgraph.references import import_reference

OPT_IN = (
    "if you trust the code it names, load it with pg.load(path, trust_code=True) (on the command line: "
    "--trust-code), or build the program in code and load only its values with program.load_values(path)"
)


@attrs.frozen
class Known:
    """One of promptgraph's module types and the config fields it is saved with."""

    type: type[Module]
    fields: Mapping[str, schema.Check]
    required: frozenset[str] = frozenset()


def name_of(thing: Any) -> str:
    """The reference a saved program writes for a class or function."""
    return f"{thing.__module__}:{thing.__qualname__}"


_PROMPT = {
    "inputs": schema.names,
    "outputs": schema.names,
    "max_tokens": schema.whole_number,
    "description": schema.text,
    "parser": schema.optional_reference,
    "max_input_chars": schema.whole_number,
    "effort": schema.call_setting("effort"),
    "temperature": schema.call_setting("temperature"),
    "thinking": schema.call_setting("thinking"),
    # today's programs: a typed signature and an answer format; older ones: names and a format text
    "signature": schema.signature,
    "answer_format": schema.answer_format,
}
_GENERATE = {**_PROMPT}
_CLASSIFY = {
    "labels": schema.labels,
    "format": schema.label_format,
    **{key: check for key, check in _PROMPT.items() if key not in ("outputs", "signature", "answer_format")},
}
_FUNCTION = {
    "function": schema.reference,
    "inputs": schema.names,
    "outputs": schema.names,
    "description": schema.text,
}

MODULE_TYPES: Mapping[str, Known] = MappingProxyType(
    {
        name_of(known.type): known
        for known in (
            Known(Prompt, {**_PROMPT, "format": schema.text}),
            Known(Generate, _GENERATE),
            Known(ChainOfThought, _GENERATE),
            Known(Classify, _CLASSIFY, frozenset({"labels"})),
            Known(Function, _FUNCTION, frozenset({"function", "inputs", "outputs"})),
            Known(Program, {"graph": schema.mapping}, frozenset({"graph"})),
        )
    }
)

FUNCTIONS: Mapping[str, Callable[..., Any]] = MappingProxyType({name_of(read_label_tag): read_label_tag})


class Refused(ValueError, PromptgraphError):
    """A name that is not promptgraph's own, in a load that does not trust code; nothing was imported."""


@attrs.frozen
class Resolver:
    """Turns the names in a saved program into classes and functions: the registry's, or, if trusted, any."""

    trust_code: bool = False

    def module_type(self, reference: str) -> type[Module]:
        if reference in MODULE_TYPES:
            return MODULE_TYPES[reference].type
        found = self._import(reference)
        if not (isinstance(found, type) and issubclass(found, Module)):
            raise Refused(f"{reference!r} is not a promptgraph Module")
        return found

    def function(self, reference: str) -> Callable[..., Any]:
        if reference in FUNCTIONS:
            return FUNCTIONS[reference]
        found = self._import(reference)
        if not callable(found):
            raise Refused(f"{reference!r} is not a function")
        return found

    def _import(self, reference: str) -> Any:
        if not self.trust_code:
            raise Refused(f"{reference!r} is not one of promptgraph's own names, so nothing was imported; {OPT_IN}")
        try:
            return import_reference(reference)
        except ImportError as error:
            raise Refused(str(error)) from None
