"""A saved program's file: writing it, reading and checking it, and putting its values into modules built in code.

The half of saving that needs neither the registry nor a Program to build, so `program.py`
(`Program.load_values`) can use it and imports still run one way: `saving.py`, which rebuilds
whole programs by name, sits above `program.py` and `registry.py` and re-exports all of this.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promptgraph import program_schema as schema
from promptgraph.errors import PromptgraphError
from promptgraph.lm.files import atomic_write
from promptgraph.module import Module
from promptgraph.parameter import Demo
from promptgraph.retrieval import Retriever

if TYPE_CHECKING:
    from promptgraph.program import Program

FORMAT = "promptgraph.program/1"


class LoadError(ValueError, PromptgraphError):
    """A saved program that cannot be loaded; nothing was changed."""


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
        raise LoadError(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
            "a saved program (the program.json compile writes) was expected"
        ) from None
    except RecursionError:
        raise LoadError(f"{path} is nested too deeply to be a saved program") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise LoadError(f"{path} is not a saved promptgraph program (format {found!r}, expected {FORMAT!r})")
    for key, kind in (("inputs", list), ("output", str), ("nodes", list), ("meta", dict)):
        if not isinstance(data.get(key), kind):
            raise LoadError(f"{path}: {key!r} is missing or not a {kind.__name__}")
    return data


def write(data: dict[str, Any], path: str | Path) -> Path:
    """A program's data (`Program.to_dict()`) as readable JSON; a crash mid-write never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


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
    program.meta = program.meta | data.get("meta", {})  # keys the file does not have stay as they were
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
            retriever = saved.get("retriever")
            demos.retriever = Retriever.from_dict(retriever) if retriever is not None else None
            demos.history = [[Demo(**pair) for pair in pairs] for pairs in saved.get("history", [])]


def _check_values(node: dict[str, Any], at: str) -> None:
    for name, saved in node["parameters"].items():
        schema.check_parameter(saved, f"{at}parameter {name!r}: ")
    for name, saved in node.get("demos", {}).items():
        schema.check_demos(saved, f"{at}demos {name!r} ")
