"""Signatures: what a module reads and what it writes, with types and one-line descriptions.

`Signature.of("question, context -> answer: float")` or the keyword form
`Signature.of(inputs={"question": "the user's question"}, outputs={"answer": str,
"label": Literal["a", "b"]})`. Output types are str, int, float, bool, `Literal[...]`
(a label set), `list[str]`, and records (a dict of field name to type) where the format
can carry them. A value read from a reply is checked against its type here, so every
format reports a wrong value the same way: a ValueError naming the field and what was
wrong (a ParseError), which the module turns into an unparsed outcome.

Types are saved by name (`type_name` / `type_from_name`), never imported, so a program
file cannot make promptgraph load anything.
"""

from __future__ import annotations

import json
import math
import re
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from promptgraph.errors import PromptgraphError
from promptgraph.lm.reprs import short, sized

SIMPLE_TYPES: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool, "list[str]": list[str]}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}

TYPE_IN_REPR = 60  # characters of a field's type (its labels) a repr shows
SIGNATURE_IN_REPR = 120


class SignatureError(ValueError, PromptgraphError):
    """A signature that cannot be used: the message names the part and what to write instead."""


class ParseError(ValueError, PromptgraphError):
    """A reply, or a value in it, could not be read; the message names the field and what was expected."""


@attrs.frozen
class Field:
    """One input or output of a Signature: its name, its type (str, int, float, bool, list[str],
    Literal labels or a record) and a description the model reads."""

    name: str
    type: Any = str  # one of SIMPLE_TYPES, a Literal[...] of strings, or a record: a tuple of Fields
    description: str = ""

    @property
    def choices(self) -> tuple[str, ...]:
        """The labels of a Literal field; empty for every other type."""
        return tuple(typing.get_args(self.type)) if typing.get_origin(self.type) is Literal else ()

    @property
    def is_record(self) -> bool:
        return isinstance(self.type, tuple)

    def __repr__(self) -> str:
        description = f", description={short(self.description)}" if self.description else ""
        kind = describe_type(self.type)
        kind = kind if len(kind) <= TYPE_IN_REPR else kind[:TYPE_IN_REPR] + "…"  # a hundred labels: their start
        return f"Field({self.name}: {kind}{description})"


@attrs.frozen
class Signature:
    """What a module reads and writes, with types: `Signature.of("question, context -> answer: int")`.

    Modules take the string itself (`pg.Generate("question -> answer")`); the answer format is
    derived from it, so a rewrite of the trainable texts cannot break parsing.
    """

    inputs: tuple[Field, ...]
    outputs: tuple[Field, ...]

    @classmethod
    def of(
        cls,
        spec: str | Signature | None = None,
        *,
        inputs: Sequence[str] | Mapping[str, Any] | None = None,
        outputs: Sequence[str] | Mapping[str, Any] | None = None,
    ) -> Signature:
        """A signature from `"a, b -> c: int"`, or from `inputs` / `outputs` (names, or name -> type or description)."""
        if isinstance(spec, Signature):
            return spec
        if spec is not None:
            if inputs is not None or outputs is not None:
                raise SignatureError("give a signature string or inputs=/outputs=, not both")
            return _from_string(spec)
        signature = cls(
            inputs=_fields(inputs if inputs is not None else ("text",), "inputs"),
            outputs=_fields(outputs if outputs is not None else ("answer",), "outputs"),
        )
        if any(field.type is not str for field in signature.inputs):
            raise SignatureError("inputs are text: give each input a description, not a type")
        return signature

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.outputs)

    def output(self, name: str) -> Field:
        return next(field for field in self.outputs if field.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [_field_dict(field) for field in self.inputs],
            "outputs": [_field_dict(f) for f in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        return cls(
            inputs=tuple(_field_from_dict(item) for item in data["inputs"]),
            outputs=tuple(_field_from_dict(item) for item in data["outputs"]),
        )

    def __str__(self) -> str:
        inputs = ", ".join(self.input_names)
        outputs = ", ".join(f.name if f.type is str else f"{f.name}: {describe_type(f.type)}" for f in self.outputs)
        return f"{inputs} -> {outputs}"

    def __repr__(self) -> str:
        return f"Signature({sized(self, SIGNATURE_IN_REPR)})"


def _from_string(spec: str) -> Signature:
    if spec.count("->") != 1:
        raise SignatureError(
            f"signature {spec!r} needs exactly one '->' between inputs and outputs, e.g. 'question -> answer'"
        )
    left, right = spec.split("->")
    inputs = _fields_from_text(left, spec)
    if any(field.type is not str for field in inputs):
        raise SignatureError(f"signature {spec!r}: inputs are text and take no type")
    return Signature(inputs=inputs, outputs=_fields_from_text(right, spec))


def _fields_from_text(text: str, spec: str) -> tuple[Field, ...]:
    fields = []
    for part in (part.strip() for part in text.split(",")):
        name, _, type_text = (piece.strip() for piece in part.partition(":"))
        if type_text and type_text not in SIMPLE_TYPES:
            raise SignatureError(
                f"signature {spec!r}: unknown type {type_text!r} for {name!r}; use one of {', '.join(SIMPLE_TYPES)}, "
                "or the keyword form for Literal labels and records"
            )
        fields.append(Field(name, SIMPLE_TYPES[type_text] if type_text else str))
    return _checked(fields, f"signature {spec!r}")


def _fields(spec: Sequence[str] | Mapping[str, Any], where: str) -> tuple[Field, ...]:
    if isinstance(spec, str):
        raise SignatureError(f"{where} must be a list of names or a dict, not the string {spec!r}")
    if not isinstance(spec, Mapping):
        return _checked([Field(name) for name in spec], where)
    return _checked([_field(name, value, where) for name, value in spec.items()], where)


def _field(name: str, value: Any, where: str) -> Field:
    """`str`-like types, a description (text), a (type, description) pair, a dict (a record) or a Field."""
    if isinstance(value, Field):
        return attrs.evolve(value, name=name)
    if isinstance(value, str):
        return Field(name, str, value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        return Field(name, _type(value[0], f"{where}.{name}"), value[1])
    return Field(name, _type(value, f"{where}.{name}"))


def _type(value: Any, where: str) -> Any:
    if isinstance(value, Mapping):
        return _fields(value, where)
    if value in SIMPLE_TYPES.values():
        return value
    if typing.get_origin(value) is Literal:
        choices = typing.get_args(value)
        if len(choices) < 2 or not all(isinstance(choice, str) and choice.strip() for choice in choices):
            raise SignatureError(f"{where}: a Literal needs two or more non-blank string labels, got {choices}")
        if len({choice.casefold() for choice in choices}) != len(choices):  # answers are matched ignoring case
            raise SignatureError(f"{where}: the labels {choices} differ only in case; give them distinct names")
        return value
    raise SignatureError(
        f"{where}: unsupported type {value!r}; use str, int, float, bool, list[str], Literal[...] or a dict of fields"
    )


def _checked(fields: list[Field], where: str) -> tuple[Field, ...]:
    if not fields:
        raise SignatureError(f"{where}: name at least one field")
    for field in fields:
        if not isinstance(field.name, str) or not _NAME.fullmatch(field.name):
            raise SignatureError(
                f"{where}: {field.name!r} is not a field name (letters, digits and _, not first a digit)"
            )
    names = [field.name for field in fields]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise SignatureError(f"{where}: the field {', '.join(repeated)} is named twice")
    return tuple(fields)


def describe_type(type_: Any) -> str:
    """How a type reads to a person (and to the model): `float`, `one of: a, b`, `a record of name, age`."""
    if isinstance(type_, tuple):
        return "a record of " + ", ".join(field.name for field in type_)
    if typing.get_origin(type_) is Literal:
        return "one of: " + ", ".join(typing.get_args(type_))
    return next(name for name, simple in SIMPLE_TYPES.items() if simple == type_)


# --- saving types by name ----------------------------------------------------------------


def type_name(type_: Any) -> Any:
    if isinstance(type_, tuple):
        return {"record": [_field_dict(field) for field in type_]}
    if typing.get_origin(type_) is Literal:
        return {"labels": list(typing.get_args(type_))}
    return describe_type(type_)


def type_from_name(name: Any) -> Any:
    if isinstance(name, str) and name in SIMPLE_TYPES:
        return SIMPLE_TYPES[name]
    if isinstance(name, Mapping) and isinstance(name.get("labels"), list):
        return _type(Literal[tuple(name["labels"])], "labels")
    if isinstance(name, Mapping) and isinstance(name.get("record"), list):
        return tuple(_field_from_dict(item) for item in name["record"])
    raise SignatureError(f"unknown field type {name!r}; expected one of {', '.join(SIMPLE_TYPES)}, labels or record")


def _field_dict(field: Field) -> dict[str, Any]:
    return {"name": field.name, "type": type_name(field.type), "description": field.description}


def _field_from_dict(data: Mapping[str, Any]) -> Field:
    return Field(data["name"], type_from_name(data.get("type", "str")), data.get("description", ""))


# --- reading values ----------------------------------------------------------------------


def from_text(field: Field, text: str) -> Any:
    """The value of `field` written as text (a tag's content); ValueError naming the field and the fault."""
    raw = text.strip()
    type_ = field.type
    if field.is_record:
        raise ParseError(f"{field.name}: a record can only be read from JSON")
    if type_ is str:
        return raw
    if type_ == list[str]:
        return _list_from_text(raw)
    if type_ is bool:
        if raw.casefold() in _TRUE | _FALSE:
            return raw.casefold() in _TRUE
        raise ParseError(f"{field.name}: expected true or false, got {_quote(raw)}")
    if type_ is int:
        if re.fullmatch(r"[+-]?\d+", raw.replace(",", "")):
            return int(raw.replace(",", ""))
        raise ParseError(f"{field.name}: expected a whole number, got {_quote(raw)}")
    if type_ is float:
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            raise ParseError(f"{field.name}: expected a number, got {_quote(raw)}") from None
        return _finite(field, value)
    return _label(field, raw)


def from_json(field: Field, value: Any) -> Any:
    """The value of `field` from decoded JSON, checked strictly (JSON carries the type itself)."""
    type_ = field.type
    if field.is_record:
        if not isinstance(value, Mapping):
            raise ParseError(f"{field.name}: expected an object, got {_json_kind(value)}")
        missing = [inner.name for inner in type_ if inner.name not in value]
        if missing:
            raise ParseError(f"{field.name}: missing {', '.join(missing)}")
        return {
            inner.name: from_json(attrs.evolve(inner, name=f"{field.name}.{inner.name}"), value[inner.name])
            for inner in type_
        }
    if field.choices:
        if not isinstance(value, str):
            raise ParseError(f"{field.name}: expected one of {', '.join(field.choices)}, got {_json_kind(value)}")
        return _label(field, value)
    expected = {
        str: "text",
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        list[str]: "a list of texts",
    }
    good = {
        str: isinstance(value, str),
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        list[str]: isinstance(value, list) and all(isinstance(item, str) for item in value),
    }[type_]
    if not good:
        raise ParseError(f"{field.name}: expected {expected[type_]}, got {_json_kind(value)}")
    return _finite(field, float(value)) if type_ is float else value


def _label(field: Field, raw: str) -> str:
    """Exact, then ignoring case: `Sincere` for `sincere` is not a new label. Never the nearest other label."""
    if raw in field.choices:
        return raw
    folded = {choice.casefold(): choice for choice in field.choices}
    if raw.strip().casefold() in folded:
        return folded[raw.strip().casefold()]
    raise ParseError(f"{field.name}: {_quote(raw)} is not one of the labels {', '.join(field.choices)}")


def _list_from_text(raw: str) -> list[str]:
    """A JSON array of texts, or one item a line (bullets and numbering taken off)."""
    if raw.startswith("["):
        try:
            items = json.loads(raw)
        except json.JSONDecodeError:
            items = None
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return items
    lines = (re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s+", "", line).strip() for line in raw.splitlines())
    return [line for line in lines if line]


def _finite(field: Field, value: float) -> float:
    if not math.isfinite(value):
        raise ParseError(f"{field.name}: expected a finite number, got {value}")
    return value


def _quote(raw: str) -> str:
    return repr(raw if len(raw) <= 60 else raw[:57] + "...")


def _json_kind(value: Any) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}
    return "null" if value is None else f"{kinds.get(type(value), type(value).__name__)} {_quote(json.dumps(value))}"
