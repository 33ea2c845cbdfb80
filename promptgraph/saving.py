"""Saving programs as readable JSON and loading them back, validated before anything changes.

No pickle: a saved program is its graph, each module's type and constructor settings,
and each parameter's value, role, constraints and history, plus what training recorded
(metrics, cost, history). Module types and parsers are stored by import path
(`package.module:Name`) and imported on load, so load only files you trust, as you would
import only code you trust; an imported name must be a Module subclass (or a function,
for a parser), or loading stops.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from promptgraph.module import Module, import_reference
from promptgraph.parameter import Demo

if TYPE_CHECKING:
    from promptgraph.program import Program

FORMAT = "promptgraph.program/1"


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
    text = json.dumps(program_to_dict(program), indent=2, ensure_ascii=False)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)  # atomic: a crash mid-write never leaves half a file
    return path


def read(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoadError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise LoadError(f"{path} is a directory; give the program's .json file") from None
    except json.JSONDecodeError as error:
        raise LoadError(f"{path} is not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise LoadError(f"{path} is not a saved promptgraph program (format {found!r}, expected {FORMAT!r})")
    for key, kind in (("inputs", list), ("output", str), ("nodes", list), ("meta", dict)):
        if not isinstance(data.get(key), kind):
            raise LoadError(f"{path}: {key!r} is missing or not a {kind.__name__}")
    return data


def load(path: str | Path) -> Program:
    """A new Program rebuilt from a file."""
    return program_from_dict(read(path), str(path))


def program_from_dict(data: dict[str, Any], where: str) -> Program:
    from promptgraph.program import GraphError, Program  # program.py imports this module for Program.save

    program = Program(inputs=data["inputs"])
    try:
        for node in data["nodes"]:
            module = _build(node, where)
            _assign(module, node, f"{where}: node {node.get('name')!r}")
            program.add(node["name"], module, **node["wiring"])
        program.output = data["output"]
    except (GraphError, KeyError, TypeError) as error:
        raise LoadError(f"{where}: the graph cannot be rebuilt: {error}") from None
    program.meta = data.get("meta", {})
    return program


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


def _build(node: Any, path: str | Path) -> Module:
    if not isinstance(node, dict) or not {"name", "type", "config", "wiring"} <= set(node):
        raise LoadError(f"{path}: every node needs name, type, config and wiring")
    try:
        cls = import_reference(node["type"])
    except ImportError as error:
        raise LoadError(f"{path}: {error}") from None
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise LoadError(f"{path}: {node['type']} is not a promptgraph Module")
    try:
        return cls.from_config(dict(node["config"]))
    except LoadError:
        raise
    except (ImportError, TypeError, ValueError, KeyError) as error:
        raise LoadError(f"{path}: node {node['name']!r} cannot be rebuilt from its config: {error}") from None


def _validate(module: Module, node: Any, where: str) -> None:
    parameters = node.get("parameters") if isinstance(node, dict) else None
    expected = {path for path, _ in module.named_parameters()}
    if not isinstance(parameters, dict):
        raise LoadError(f"{where}: 'parameters' must be an object")
    if set(parameters) != expected:
        raise LoadError(f"{where}: the file has parameters {sorted(parameters)}, the module has {sorted(expected)}")
    for name, saved in parameters.items():
        if not isinstance(saved, dict) or not isinstance(saved.get("value"), str):
            raise LoadError(f"{where}: parameter {name!r} needs a string 'value'")
        if not isinstance(saved.get("history", []), list) or not isinstance(saved.get("trainable", True), bool):
            raise LoadError(f"{where}: parameter {name!r} has a malformed history or trainable flag")
        if not isinstance(saved.get("role", ""), str) or not _strings(saved.get("constraints", [])):
            raise LoadError(f"{where}: parameter {name!r} needs a string 'role' and a list of string 'constraints'")
    demos = node.get("demos", {})
    expected = {path for path, _ in module.named_demos()}
    if not isinstance(demos, dict) or not set(demos) <= expected:
        raise LoadError(f"{where}: the file has demos for {sorted(demos)}, the module has {sorted(expected)}")
    for name, saved in demos.items():
        pairs = saved.get("pairs") if isinstance(saved, dict) else None
        history = saved.get("history", []) if isinstance(saved, dict) else None
        if not _demo_list(pairs) or not isinstance(history, list) or not all(_demo_list(old) for old in history):
            raise LoadError(
                f"{where}: demos {name!r} need 'pairs' (and 'history') of {{'inputs': {{...}}, 'output': '...'}}"
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


def _assign(module: Module, node: Any, where: str) -> None:
    _validate(module, node, where)
    parameters = node["parameters"]
    for name, parameter in module.named_parameters():
        saved = parameters[name]
        parameter.value = saved["value"]
        parameter.trainable = saved.get("trainable", True)
        parameter.history = [str(value) for value in saved.get("history", [])]
        parameter.role = saved.get("role", parameter.role)
        parameter.constraints = tuple(saved.get("constraints", parameter.constraints))
    for name, demos in module.named_demos():
        saved = node.get("demos", {}).get(name)
        if saved is not None:
            demos.pairs = [Demo(**pair) for pair in saved["pairs"]]
            demos.trainable = saved.get("trainable", True)
            demos.history = [[Demo(**pair) for pair in pairs] for pairs in saved.get("history", [])]
