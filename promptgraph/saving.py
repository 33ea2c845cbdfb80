"""Saving programs as readable JSON and loading them back, validated before anything changes.

No pickle: a saved program is its graph, each module's type and constructor settings,
and each parameter's value, role, constraints and history, plus what training recorded
(metrics, cost, history). Module types and functions (parsers, a Function's function) are
stored by name (`package.module:Name`, or `file.py:name` for code from a file the user
named).

Loading runs no code from the file: every field is checked first (`program_schema.py`),
and each name is looked up in the registry of promptgraph's own modules and parsers
(`registry.py`); any other name is refused, by name, before anything is imported. A user
who trusts a file's code opts in with `load(path, trust_code=True)` (`--trust-code` on
the command line): its names are then imported and must be a Module subclass or a
function. `load_values` never needs trust: the program is built in code and only its
values come from the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from promptgraph import program_schema as schema
from promptgraph.module import Module
from promptgraph.program import GraphError, Program
from promptgraph.program_file import (
    FORMAT,
    LoadError,
    _assign,
    _check_values,
    load_values,
    read,
    values_from_dict,
    write,
)
from promptgraph.registry import MODULE_TYPES, Refused, Resolver

# FORMAT, LoadError, read, write, load_values and values_from_dict live in program_file.py (below
# program.py, so Program.save and Program.load_values can use them) and are saving's own names still.
__all__ = [
    "FORMAT",
    "LoadError",
    "load",
    "load_values",
    "program_from_dict",
    "program_to_dict",
    "read",
    "save",
    "values_from_dict",
    "write",
]

MAX_NESTING = 16  # programs inside programs; far deeper than any real pipeline, well inside Python's stack


def program_to_dict(program: Program, *, meta: bool = True) -> dict[str, Any]:
    return program.to_dict(meta=meta)


def save(program: Program, path: str | Path) -> Path:
    return write(program.to_dict(), path)


def load(path: str | Path, *, trust_code: bool = False) -> Program:
    """A new Program rebuilt from a file; with `trust_code`, names outside promptgraph's own are imported."""
    return program_from_dict(read(path), str(path), resolver=Resolver(trust_code=trust_code))


def program_from_dict(data: dict[str, Any], where: str, *, resolver: Resolver | None = None) -> Program:
    """A Program from its saved form: every field checked and every name resolved before anything is built."""
    plan = _plan(data, where, "", resolver or Resolver(), depth=0)
    return _build(plan, where)


@attrs.frozen
class _Node:
    """One node as checked and resolved: what to build, and where its values come from."""

    name: str
    type: type[Module]
    config: dict[str, Any]  # references already resolved; a nested program's graph is its own _Plan
    saved: dict[str, Any]
    at: str


@attrs.frozen
class _Plan:
    data: dict[str, Any]
    nodes: list[_Node]


def _plan(data: Any, where: str, at: str, resolver: Resolver, depth: int) -> _Plan:
    if depth > MAX_NESTING:
        raise LoadError(f"{where}: {at}programs are nested more than {MAX_NESTING} deep")
    try:
        schema.check_program(data, at)
        if data.get("format", FORMAT) != FORMAT:
            raise schema.Invalid(f"{at}field 'format' is {data['format']!r}, expected {FORMAT!r}")
    except schema.Invalid as error:
        raise LoadError(f"{where}: {error}") from None
    nodes = []
    for node in data["nodes"]:
        here = f"{at}node {node['name']!r}, "
        try:
            cls = resolver.module_type(node["type"])
        except Refused as error:
            raise LoadError(f"{where}: {here}field 'type': {error}") from None
        config = dict(node["config"])
        known = MODULE_TYPES.get(node["type"])
        try:
            if known is not None:
                schema.check_config(config, known.fields, known.required, here)
            _check_values(node, here)
        except schema.Invalid as error:
            raise LoadError(f"{where}: {error}") from None
        for field in getattr(cls, "reference_fields", ()):
            if config.get(field) is not None:
                try:
                    config[field] = resolver.function(str(config[field]))
                except Refused as error:
                    raise LoadError(f"{where}: {here}field 'config.{field}': {error}") from None
        if issubclass(cls, Program) and "graph" in config:
            config["graph"] = _plan(config["graph"], where, f"{here}in its graph: ", resolver, depth + 1)
        nodes.append(_Node(node["name"], cls, config, node, here))
    return _Plan(data, nodes)


def _build(plan: _Plan, where: str) -> Program:
    program = Program(inputs=plan.data["inputs"])
    for node in plan.nodes:
        module = _construct(node, where)
        _assign(module, node.saved, f"{where}: {node.at.rstrip(', ')}")
        try:
            program.add(node.name, module, **node.saved["wiring"])
        except GraphError as error:
            raise LoadError(f"{where}: {node.at}field 'wiring': {error}") from None
    try:
        program.output = plan.data["output"]
    except GraphError as error:
        raise LoadError(f"{where}: field 'output': {error}") from None
    program.meta = plan.data.get("meta", {})
    return program


def _construct(node: _Node, where: str) -> Module:
    if issubclass(node.type, Program) and isinstance(node.config.get("graph"), _Plan):
        return _build(node.config["graph"], where)
    try:
        return node.type.from_config(node.config)
    except LoadError:
        raise
    except (ImportError, TypeError, ValueError, KeyError) as error:
        raise LoadError(f"{where}: {node.at}cannot be rebuilt from its config: {error}") from None
