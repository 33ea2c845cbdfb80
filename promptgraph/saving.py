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

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from promptgraph import program_schema as schema
from promptgraph.module import Module
from promptgraph.parameter import Demo

if TYPE_CHECKING:
    from promptgraph.program import Program
    from promptgraph.registry import Resolver

FORMAT = "promptgraph.program/1"
MAX_NESTING = 16  # programs inside programs; far deeper than any real pipeline, well inside Python's stack


class LoadError(ValueError):
    """A saved program that cannot be loaded; nothing was changed."""


def program_to_dict(program: Program, *, meta: bool = True) -> dict[str, Any]:
    nodes = []
    for name, module in program.nodes.items():
        nodes.append(
            {
                "name": name,
                "type": f"{type(module).__module__}:{type(module).__qualname__}",
                "config": module.config(),
                "wiring": program.wiring(name),
                "parameters": {
                    path: {
                        "value": parameter.value,
                        "role": parameter.role,
                        "trainable": parameter.trainable,
                        "constraints": list(parameter.constraints),
                        "history": list(parameter.history),
                    }
                    for path, parameter in module.named_parameters()
                },
                "demos": {
                    path: {
                        "pairs": [attrs.asdict(demo) for demo in demos.pairs],
                        "trainable": demos.trainable,
                        "history": [[attrs.asdict(demo) for demo in pairs] for pairs in demos.history],
                    }
                    for path, demos in module.named_demos()
                },
            }
        )
    return {
        "format": FORMAT,
        "inputs": list(program.inputs),
        "output": program.output,
        "nodes": nodes,
        "meta": program.meta,
    }


def save(program: Program, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(program_to_dict(program), indent=2, ensure_ascii=False) + "\n")
    return path


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it: a crash mid-write never leaves half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def read(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoadError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise LoadError(f"{path} is a directory, not a saved program") from None
    except UnicodeDecodeError as error:
        raise LoadError(f"{path} is not UTF-8 text (byte {error.start}): is it a saved program?") from None
    except json.JSONDecodeError as error:
        raise LoadError(f"{path} is not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}") from None
    except RecursionError:
        raise LoadError(f"{path} is nested too deeply to be a saved program") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise LoadError(f"{path} is not a saved promptgraph program (format {found!r}, expected {FORMAT!r})")
    for key, kind in (("inputs", list), ("output", str), ("nodes", list), ("meta", dict)):
        if not isinstance(data.get(key), kind):
            raise LoadError(f"{path}: {key!r} is missing or not a {kind.__name__}")
    return data


def load(path: str | Path, *, trust_code: bool = False) -> Program:
    """A new Program rebuilt from a file; with `trust_code`, names outside promptgraph's own are imported."""
    from promptgraph.registry import Resolver  # the registry imports program.py, which imports this module

    return program_from_dict(read(path), str(path), resolver=Resolver(trust_code=trust_code))


def program_from_dict(data: dict[str, Any], where: str, *, resolver: Resolver | None = None) -> Program:
    """A Program from its saved form: every field checked and every name resolved before anything is built."""
    from promptgraph.registry import Resolver

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
    from promptgraph.program import Program
    from promptgraph.registry import MODULE_TYPES, Refused

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


def _check_values(node: dict[str, Any], at: str) -> None:
    for name, saved in node["parameters"].items():
        schema.check_parameter(saved, f"{at}parameter {name!r}: ")
    for name, saved in node.get("demos", {}).items():
        schema.check_demos(saved, f"{at}demos {name!r} ")


def _build(plan: _Plan, where: str) -> Program:
    from promptgraph.program import GraphError, Program  # program.py imports this module for Program.save

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
    from promptgraph.program import Program

    if issubclass(node.type, Program) and isinstance(node.config.get("graph"), _Plan):
        return _build(node.config["graph"], where)
    try:
        return node.type.from_config(node.config)
    except LoadError:
        raise
    except (ImportError, TypeError, ValueError, KeyError) as error:
        raise LoadError(f"{where}: {node.at}cannot be rebuilt from its config: {error}") from None


def load_values(program: Program, path: str | Path) -> Program:
    """Put a file's parameter values into an existing program (built in code), all or none."""
    return values_from_dict(program, read(path), str(path))


def values_from_dict(program: Program, data: dict[str, Any], where: str) -> Program:
    saved = {node.get("name"): node for node in data["nodes"] if isinstance(node, dict)}
    plans = []
    for name, module in program.nodes.items():
        if name not in saved:
            raise LoadError(f"{where} has no node {name!r}; it has {', '.join(map(str, saved))}")
        plans.append((module, saved[name], f"{where}: node {name!r}"))
    for module, node, place in plans:
        _validate(module, node, place)
    for module, node, place in plans:
        _assign(module, node, place)
    program.meta = data.get("meta", {})
    return program


def _validate(module: Module, node: Any, where: str) -> None:
    parameters = node.get("parameters") if isinstance(node, dict) else None
    expected = {path for path, _ in module.named_parameters()}
    if not isinstance(parameters, dict):
        raise LoadError(f"{where}: 'parameters' must be an object")
    if set(parameters) != expected:
        raise LoadError(f"{where}: the file has parameters {sorted(parameters)}, the module has {sorted(expected)}")
    demos = node.get("demos", {})
    expected = {path for path, _ in module.named_demos()}
    if not isinstance(demos, dict) or not set(demos) <= expected:
        raise LoadError(f"{where}: the file has demos for {sorted(demos)}, the module has {sorted(expected)}")
    try:
        _check_values(node, "")
    except schema.Invalid as error:
        raise LoadError(f"{where}: {error}") from None


def _assign(module: Module, node: Any, where: str) -> None:
    _validate(module, node, where)
    parameters = node["parameters"]
    for name, parameter in module.named_parameters():
        saved = parameters[name]
        parameter.value = saved["value"]
        parameter.trainable = saved.get("trainable", True)
        parameter.history = list(saved.get("history", []))
        parameter.role = saved.get("role", parameter.role)
        parameter.constraints = tuple(saved.get("constraints", parameter.constraints))
    for name, demos in module.named_demos():
        saved = node.get("demos", {}).get(name)
        if saved is not None:
            demos.pairs = [Demo(**pair) for pair in saved["pairs"]]
            demos.trainable = saved.get("trainable", True)
            demos.history = [[Demo(**pair) for pair in pairs] for pairs in saved.get("history", [])]
