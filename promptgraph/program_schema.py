"""What a saved program may hold: every field of a program.json checked before anything is built.

Each check returns what is wrong with a value (or None); `Invalid` carries one line that
names the node and the field, and the loader adds the file. The config fields of
promptgraph's own module types are declared with these checks in `registry.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from promptgraph.formats import format_from_dict
from promptgraph.lm.base import Request
from promptgraph.retrieval import Retriever
from promptgraph.signature import Signature

Check = Callable[[Any], "str | None"]

PROGRAM_KEYS = {"format", "inputs", "output", "nodes", "meta"}
NODE_KEYS = {"name", "type", "config", "wiring", "parameters", "demos"}
PARAMETER_KEYS = {"value", "role", "trainable", "constraints", "history"}
DEMOS_KEYS = {"pairs", "trainable", "history", "retriever"}


class Invalid(ValueError):
    """A field of a saved program that cannot be right; the message names where and what to fix."""


def whole_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"must be a whole number of at least 1, not {value!r}"
    return None


def text(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, not {type(value).__name__}"


def names(value: Any) -> str | None:
    """A non-empty list of distinct, non-empty strings (inputs, outputs)."""
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of names"
    return _distinct_texts(value, "a field")


def labels(value: Any) -> str | None:
    """Two or more distinct labels, each a string with something in it."""
    if not isinstance(value, list) or len(value) < 2:
        return f"must be a list of two or more labels, not {value!r}"
    return _distinct_texts(value, "a label")


def _distinct_texts(value: list, item: str) -> str | None:
    if not all(isinstance(entry, str) and entry.strip() for entry in value):
        return f"must hold only non-empty strings, not {value!r}"
    if len(set(value)) != len(value):
        return f"names {item} twice: {value!r}"
    return None


def reference(value: Any) -> str | None:
    return None if isinstance(value, str) and value else f"must name a function as 'module:name', not {value!r}"


def optional_reference(value: Any) -> str | None:
    return None if value is None else reference(value)


def mapping(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be an object, not {type(value).__name__}"


def check_program(data: Any, at: str) -> None:
    """The shape of a whole program (the file, or a nested program's `graph`), down to each node's fields."""
    if not isinstance(data, dict):
        raise Invalid(f"{at}must be an object, not {type(data).__name__}")
    _no_unknown(data, PROGRAM_KEYS, at, "the program")
    _field(data, "inputs", names, at)
    _field(data, "output", text, at)
    _field(data, "meta", mapping, at)
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise Invalid(f"{at}'nodes' must be a non-empty list of nodes")
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        name = node.get("name") if isinstance(node, dict) else None
        if not isinstance(name, str) or not name.isidentifier():
            raise Invalid(f"{at}node {index + 1} needs a 'name' that is a Python identifier, not {name!r}")
        if name in seen:
            raise Invalid(f"{at}node {name!r} is named twice")
        seen.add(name)
        check_node(node, f"{at}node {name!r}, ")


def check_node(node: dict[str, Any], at: str) -> None:
    missing = sorted({"name", "type", "config", "wiring", "parameters"} - set(node))
    if missing:
        raise Invalid(f"{at}has no {', '.join(missing)}")
    _no_unknown(node, NODE_KEYS, at, "a node")
    _field(node, "type", reference, at)
    for field in ("config", "wiring", "parameters"):
        _field(node, field, mapping, at)
    if "demos" in node:
        _field(node, "demos", mapping, at)
    for key, source in node["wiring"].items():
        if not isinstance(source, str) or not source:
            raise Invalid(
                f"{at}field 'wiring': input {key!r} must read a program input or 'node.output', not {source!r}"
            )
    for key in node["config"]:
        if not isinstance(key, str):
            raise Invalid(f"{at}field 'config' has a key that is not a string: {key!r}")


def check_config(config: dict[str, Any], fields: Mapping[str, Check], required: frozenset[str], at: str) -> None:
    """A known module type's config: no unknown key, every required key, every value in range."""
    unknown = sorted(set(config) - set(fields))
    if unknown:
        raise Invalid(
            f"{at}field 'config' has unknown key(s) {', '.join(map(repr, unknown))}; it takes {', '.join(fields)}"
        )
    missing = sorted(required - set(config))
    if missing:
        raise Invalid(f"{at}field 'config' lacks {', '.join(map(repr, missing))}")
    for key, value in config.items():
        problem = fields[key](value)
        if problem:
            raise Invalid(f"{at}field 'config.{key}' {problem}")


def check_parameter(saved: Any, at: str) -> None:
    if not isinstance(saved, dict) or not isinstance(saved.get("value"), str):
        raise Invalid(f"{at}needs a string 'value'")
    _no_unknown(saved, PARAMETER_KEYS, at, "a parameter")
    if not isinstance(saved.get("trainable", True), bool):
        raise Invalid(f"{at}field 'trainable' must be true or false")
    if not isinstance(saved.get("role", ""), str):
        raise Invalid(f"{at}field 'role' must be a string")
    for field in ("constraints", "history"):
        if not _strings(saved.get(field, [])):
            raise Invalid(f"{at}field {field!r} must be a list of strings")


def check_demos(saved: Any, at: str) -> None:
    pairs = saved.get("pairs") if isinstance(saved, dict) else None
    history = saved.get("history", []) if isinstance(saved, dict) else None
    if not _demo_list(pairs) or not isinstance(history, list) or not all(_demo_list(old) for old in history):
        raise Invalid(f"{at}need 'pairs' (and 'history') of {{'inputs': {{...}}, 'output': '...'}}")
    _no_unknown(saved, DEMOS_KEYS, at, "demos")
    if not isinstance(saved.get("trainable", True), bool):
        raise Invalid(f"{at}field 'trainable' must be true or false")
    if saved.get("retriever") is not None:
        try:
            Retriever.from_dict(saved["retriever"])
        except (TypeError, ValueError) as error:
            raise Invalid(f"{at}field 'retriever' {error}") from None


def _field(data: dict[str, Any], key: str, check: Check, at: str) -> None:
    problem = check(data.get(key))
    if problem:
        raise Invalid(f"{at}field {key!r} {problem}")


def _no_unknown(data: dict[str, Any], known: set[str], at: str, what: str) -> None:
    unknown = sorted(str(key) for key in set(data) - known)
    if unknown:
        raise Invalid(
            f"{at}has unknown field(s) {', '.join(map(repr, unknown))}; {what} has {', '.join(sorted(known))}"
        )


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _demo_list(pairs: Any) -> bool:
    return isinstance(pairs, list) and all(
        isinstance(pair, dict)
        and set(pair) == {"inputs", "output"}
        and isinstance(pair["output"], str)
        and isinstance(pair["inputs"], dict)
        and all(isinstance(value, str) for value in pair["inputs"].values())
        for pair in pairs
    )


def signature(value: Any) -> str | None:
    """A saved signature: its fields and their types, by name (see signature.py)."""
    try:
        Signature.from_dict(value)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        return f"is not a signature ({error})"
    return None


def answer_format(value: Any) -> str | None:
    try:
        format_from_dict(value)
    except (TypeError, AttributeError, ValueError) as error:
        return f"is not an answer format ({error})"
    return None


def call_setting(name: str) -> Check:
    """effort, temperature or thinking: null, or whatever a Request takes (lm/base.py decides, once)."""

    def check(value: Any) -> str | None:
        try:
            Request(messages=[("user", ".")], **{name: value})
        except (TypeError, ValueError) as error:
            return f"is not a {name} a model call takes ({error})"
        return None

    return check


def label_format(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) <= {"stated"} and isinstance(value.get("stated", True), bool):
        return None
    return f'must be an object like {{"stated": true}}, not {value!r}'
