"""A saved program's file: writing it, reading and checking it, and putting its values into modules built in code.

The half of saving that needs neither the registry nor a Program to build, so `program.py`
(`Program.load_values`) can use it and imports still run one way: `saving.py`, which rebuilds
whole programs by name, sits above `program.py` and `registry.py` and re-exports all of this.
"""

from __future__ import annotations

import json
import logging
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

logger = logging.getLogger(__name__)
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


def load_values(program: Program, path: str | Path, *, strict: bool = True) -> Program:
    """Put a file's parameter values into an existing program (built in code), all or none."""
    return values_from_dict(program, read(path), str(path), strict=strict)


def values_from_dict(program: Program, data: dict[str, Any], where: str, *, strict: bool = True) -> Program:
    """The file's values in `program`. A file that does not match it (a text on one side only, a classifier's
    labels) is refused naming the difference, unless `strict=False`: then the values both have are loaded and
    what was left out is said in one warning."""
    saved = {node.get("name"): node for node in data["nodes"] if isinstance(node, dict)}
    differences = _differences(program, saved)
    if differences and strict:
        raise LoadError(
            f"{where} does not match the program: {'; '.join(differences)}; build the program the file was saved "
            "from, or pass strict=False to load only the values the two share"
        )
    if differences:
        logger.warning("%s: loaded only the values the file and the program share: %s", where, "; ".join(differences))
    plans = [
        (module, _shared(module, saved[name]) if not strict else saved[name], f"{where}: node {name!r}")
        for name, module in program.nodes.items()
        if name in saved
    ]
    for module, node, place in plans:
        _validate(module, node, place, complete=strict)
    for module, node, place in plans:
        _assign(module, node, place, complete=strict)
    program.meta = program.meta | data.get("meta", {})  # keys the file does not have stay as they were
    return program


def _differences(program: Program, saved: dict[Any, Any]) -> list[str]:
    """What the file and the program do not share: texts (and demos) on one side only, a classifier's labels."""
    ours = {name for name, _ in program.named_parameters()}
    theirs: set[str] = set()
    for node, content in saved.items():
        for key in ("parameters", "demos"):
            names = content.get(key)
            theirs |= {f"{node}.{path}" for path in names} if isinstance(names, dict) else set()
    ours_with_demos = ours | {name for name, _ in program.named_demos()}
    found = []
    if theirs - ours_with_demos:
        found.append(f"the program has no {', '.join(sorted(theirs - ours_with_demos))} (in the file)")
    if ours - theirs:
        found.append(f"the file has no {', '.join(sorted(ours - theirs))}")
    return found + _label_differences(program, saved)


def _label_differences(program: Program, saved: dict[Any, Any], prefix: str = "") -> list[str]:
    """A classifier whose labels are not the file's: its texts would name other labels."""
    found = []
    for name, module in program.nodes.items():
        config = saved.get(name, {}).get("config")
        if not isinstance(config, dict):
            continue
        labels = getattr(module, "labels", None)
        if isinstance(config.get("labels"), list) and labels is not None and list(labels) != config["labels"]:
            found.append(
                f"node '{prefix}{name}' labels {', '.join(labels)}, the file's {', '.join(map(str, config['labels']))}"
            )
        graph = config.get("graph")
        if hasattr(module, "nodes") and isinstance(graph, dict) and isinstance(graph.get("nodes"), list):
            inner = {node.get("name"): node for node in graph["nodes"] if isinstance(node, dict)}
            found += _label_differences(module, inner, prefix=f"{prefix}{name}.")
    return found


def _shared(module: Module, node: Any) -> Any:
    """The node as saved, with only the texts and demos the module has (strict=False)."""
    if not isinstance(node, dict):
        return node
    shared = dict(node)
    for key, names in (("parameters", module.named_parameters()), ("demos", module.named_demos())):
        if isinstance(node.get(key), dict):
            known = {name for name, _ in names}
            shared[key] = {name: value for name, value in node[key].items() if name in known}
    return shared


def _validate(module: Module, node: Any, where: str, *, complete: bool = True) -> None:
    parameters = node.get("parameters") if isinstance(node, dict) else None
    expected = {path for path, _ in module.named_parameters()}
    if not isinstance(parameters, dict):
        raise LoadError(f"{where}: 'parameters' must be an object")
    if set(parameters) != expected and (complete or not set(parameters) <= expected):
        raise LoadError(f"{where}: the file has parameters {sorted(parameters)}, the module has {sorted(expected)}")
    demos = node.get("demos", {})
    expected = {path for path, _ in module.named_demos()}
    if not isinstance(demos, dict) or not set(demos) <= expected:
        raise LoadError(f"{where}: the file has demos for {sorted(demos)}, the module has {sorted(expected)}")
    try:
        _check_values(node, "")
    except schema.Invalid as error:
        raise LoadError(f"{where}: {error}") from None


def _assign(module: Module, node: Any, where: str, *, complete: bool = True) -> None:
    _validate(module, node, where, complete=complete)
    parameters = node["parameters"]
    for name, parameter in module.named_parameters():
        saved = parameters.get(name)
        if saved is None:  # not in the file (strict=False): the module's own value stays
            continue
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
