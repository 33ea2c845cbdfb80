"""What a resumed run must share with the run it resumes: its data, the settings that shape it, its program's
graph and its optimizer.

compile writes `identity(...)` into every checkpoint (as its "settings") and, on `resume=True`, compares it
with the run it is asked to carry on (`refusal`) before any call: a resume that would mix one run's history
with another's program, data or optimizer is refused in one line that says what differs. The program's graph
is read from the checkpoint's saved program, so it needs no field of its own; the trained texts are not part
of it (the checkpoint restores them). A checkpoint written before the data and the optimizer were recorded is
resumed on what it does record, with one warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from promptgraph.data import Example
from promptgraph.errors import PromptgraphError

logger = logging.getLogger(__name__)

# The ids, the seed and the minibatch size were checked before these were recorded: an older checkpoint
# lacks only these.
RECORDED_LATER = ("trainset_content", "valset_content", "optimizer")
# Of a module's saved config, what makes its graph: what it answers and how its answer is read (what it
# reads is its wiring's). Call settings (max_tokens, temperature, effort) and descriptions may change.
SHAPE_KEYS = ("signature", "outputs", "labels", "answer_format", "format", "parser", "function")


class ResumeMismatch(ValueError, PromptgraphError):
    """A resume of a run with another program, data, settings or optimizer; nothing was sent or changed."""


def fingerprint(examples: Sequence[Example]) -> str:
    """sha256 over each example's (id, inputs, label), in order: the same ids with other texts or labels differ."""
    digest = hashlib.sha256()
    for example in examples:
        row = [example.id, example.inputs, example.label]
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def optimizer_kind(optimizer: object) -> str:
    """The optimizer's class (a Chain's with its optimizers'); an optimizer wrapped by compile is its own."""
    inner = getattr(optimizer, "inner", None)  # as_optimizer's wrapper of one that has only `step`
    if inner is not None:
        return optimizer_kind(inner)
    kind = type(optimizer).__name__
    parts = getattr(optimizer, "optimizers", None)
    if isinstance(parts, tuple):
        return f"{kind}({', '.join(optimizer_kind(part) for part in parts)})"
    return kind


def identity(
    *, seed: int, samples_per_label: int, trainset: Sequence[Example], valset: Sequence[Example], optimizer: object
) -> dict[str, Any]:
    """What a checkpoint records of the run, for a resume to compare."""
    return {
        "seed": seed,
        "samples_per_label": samples_per_label,
        "trainset": [example.id for example in trainset],
        "valset": [example.id for example in valset],
        "trainset_content": fingerprint(trainset),
        "valset_content": fingerprint(valset),
        "optimizer": optimizer_kind(optimizer),
    }


def refusal(
    where: str, saved: Mapping[str, Any], now: Mapping[str, Any], saved_program: dict, program: dict
) -> str | None:
    """One line saying how the run in `where` differs from this one and what to do, or None when they match.

    `saved`/`now` are identities; `saved_program`/`program` the programs as saved (`Program.to_dict()`).
    """
    unrecorded = [key for key in RECORDED_LATER if key not in saved]
    if unrecorded:
        logger.warning(
            "%s was checkpointed before promptgraph recorded a run's %s: resuming without checking them; "
            "resume with the data and optimizer it was started with",
            where,
            "data contents and optimizer" if len(unrecorded) > 1 else unrecorded[0].replace("_", " "),
        )
    differs, fixes = [], []
    changed = sorted(key for key in now if key not in RECORDED_LATER and saved.get(key) != now[key])
    if changed:
        differs.append(f"other settings or data ({', '.join(changed)} differ)")
        fixes.append("the same data, seed and samples per label")
    content = [key.split("_")[0] for key in RECORDED_LATER[:2] if key in saved and saved[key] != now[key]]
    if content and not {"trainset", "valset"} & set(changed):
        differs.append(f"other data under the same ids (the {' and '.join(content)}'s texts or labels differ)")
        fixes.append("the data it was started with")
    graph = program_differences(saved_program, program)
    if graph:
        differs.append(f"another program ({'; '.join(graph)})")
        fixes.append("the program it was started with (the checkpoint restores its trained texts)")
    if "optimizer" in saved and saved["optimizer"] != now["optimizer"]:
        differs.append(f"another optimizer ({saved['optimizer']}, not {now['optimizer']})")
        fixes.append(f"a {saved['optimizer']}")
    if not differs:
        return None
    return (
        f"{where} was a run with {' and '.join(differs)}; resume with {', '.join(fixes)}, or start a new run directory"
    )


def program_differences(saved: dict, program: dict) -> list[str]:
    """What differs between the checkpoint's saved program and the one given now: their graphs, not their
    texts, each difference as a short phrase."""
    before, after = shape(saved), shape(program)
    found = []
    for key in ("inputs", "output"):
        if before[key] != after[key]:
            found.append(f"program {key} {_shown(before[key])} in the checkpoint, {_shown(after[key])} now")
    gone = [name for name in before["nodes"] if name not in after["nodes"]]
    new = [name for name in after["nodes"] if name not in before["nodes"]]
    if gone:
        found.append(f"node {', '.join(map(repr, gone))} only in the checkpoint")
    if new:
        found.append(f"node {', '.join(map(repr, new))} only now")
    for name, node in after["nodes"].items():
        old = before["nodes"].get(name)
        if old is None:
            continue
        for key, value in node.items():
            if key in old and old[key] != value:
                found.append(f"node {name!r} {key} {_shown(old[key])} in the checkpoint, {_shown(value)} now")
    return found


def shape(program: dict, prefix: str = "") -> dict[str, Any]:
    """A saved program's graph: its inputs, output and, per node (a nested program's as `stage.node`), its
    kind, wiring, signature and the names of its texts and demos."""
    nodes: dict[str, dict[str, Any]] = {}
    for node in program.get("nodes", []):
        name, config = f"{prefix}{node.get('name')}", node.get("config", {})
        nodes[name] = {
            "kind": str(node.get("type", "")).rpartition(":")[2],
            "reads": node.get("wiring", {}),
            **{key: config[key] for key in SHAPE_KEYS if key in config},
            "texts": sorted(node.get("parameters", {})),
            "demos": sorted(node.get("demos", {})),
        }
        if isinstance(config.get("graph"), dict):
            nodes.update(shape(config["graph"], prefix=f"{name}.")["nodes"])
    return {"inputs": program.get("inputs"), "output": program.get("output"), "nodes": nodes}


def _shown(value: Any) -> str:
    """A graph's part as the phrase says it: a signature as `text -> topic, tone`, wiring as `tone=extract.tone`."""
    if isinstance(value, Mapping) and {"inputs", "outputs"} <= set(value):
        return " -> ".join(", ".join(_field(field) for field in value[side]) for side in ("inputs", "outputs"))
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_shown(item)}" for key, item in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(map(_shown, value)) or "none"
    return str(value)


def _field(field: Any) -> str:
    if not isinstance(field, Mapping):
        return str(field)
    kind = field.get("type", "str")
    return str(field.get("name")) if kind == "str" else f"{field.get('name')}: {kind}"
