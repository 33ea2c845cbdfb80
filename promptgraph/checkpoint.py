"""Checkpoints: after every iteration the run directory holds enough to carry on.

`checkpoint.json` holds the program as it stands, the history so far, the ledger and the
settings the run was started with. It is written atomically (temp file, then rename), so
a run killed at any moment leaves the last finished iteration's checkpoint intact. The
responses themselves live in the response cache, so a resumed run re-sends nothing that
was already answered. `ledger-journal.jsonl` lists every paid call as it is made; the
checkpoint says how many of its lines its ledger holds, so resuming adds the calls an
unfinished iteration paid for (see lm/ledger.py). A new run never writes over a run
directory's checkpoint unless asked (`refuse_replacing`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from promptgraph.backward import Critique
from promptgraph.errors import PromptgraphError
from promptgraph.lm import Ledger
from promptgraph.lm.files import atomic_write
from promptgraph.metrics import Evaluation, LabelScores
from promptgraph.optimizers.base import Tried, Update
from promptgraph.parameter import Demo, Feedback
from promptgraph.program import Program
from promptgraph.saving import LoadError, program_to_dict

FORMAT = "promptgraph.checkpoint/1"
FILE = "checkpoint.json"
JOURNAL = "ledger-journal.jsonl"


class RunExists(ValueError, PromptgraphError):
    """A new run would write over a run directory's checkpoint: resume it, overwrite it, or choose another."""


@attrs.frozen
class Checkpoint:
    iteration: int  # the last finished iteration
    program: dict[str, Any]
    history: list[dict[str, Any]]
    ledger: Ledger
    settings: dict[str, Any]
    optimizer_state: dict[str, Any] | None = None  # what the optimizer remembers between steps
    journal_lines: int = 0  # lines of the ledger journal already counted in `ledger`


def write(
    run_dir: Path,
    *,
    iteration: int,
    program: Program,
    history: list[dict],
    ledger: Ledger,
    settings: dict,
    optimizer_state: dict | None = None,
) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "format": FORMAT,
        "iteration": iteration,
        "program": program_to_dict(program),
        "history": history,
        "ledger": ledger.to_dict(),
        # Read between iterations, when no call is in flight: the accounts and this count agree.
        "journal_lines": ledger.journal_lines,
        "settings": settings,
        "optimizer_state": optimizer_state,
    }
    return atomic_write(run_dir / FILE, json.dumps(data, indent=1, ensure_ascii=False))


def read(run_dir: Path) -> Checkpoint:
    path = run_dir / FILE
    damaged = f"{path} is damaged or not a promptgraph checkpoint"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoadError(
            f"{run_dir} holds no {FILE}: nothing to resume (was the run started with a run directory?)"
        ) from None
    except json.JSONDecodeError as error:
        raise LoadError(f"{path} is not valid JSON (line {error.lineno}): {error.msg}") from None
    except (UnicodeDecodeError, RecursionError) as error:
        raise LoadError(f"{damaged} ({type(error).__name__}); start a new run") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise LoadError(f"{path} is not a promptgraph checkpoint (format {found!r})")
    try:
        return Checkpoint(
            iteration=data["iteration"],
            program=data["program"],
            history=data["history"],
            ledger=Ledger.from_dict(data["ledger"]),
            settings=data["settings"],
            optimizer_state=data.get("optimizer_state"),
            journal_lines=data.get("journal_lines", 0),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as error:  # written by hand, or by another tool
        raise LoadError(f"{damaged} ({type(error).__name__}: {error}); start a new run") from None


def refuse_replacing(run_dir: Path) -> None:
    """A new run writes its checkpoint over the run in `run_dir`: not unless asked (its journal is kept beside)."""
    path = run_dir / FILE
    if not path.exists():
        return
    try:
        held = f"a run checkpointed after iteration {read(run_dir).iteration}"
    except LoadError:  # damaged or not ours: still someone's, not to be replaced silently
        held = "a checkpoint"
    raise RunExists(
        f"{path} holds {held}: pass resume=True to carry on from it, overwrite=True to start a new run in its "
        "place, or choose another run_dir"
    )


def how_to_go_on(run_dir: Path, *, resume: str, again: str) -> str:
    """After an interrupt, the end of the line that says so: carry on with `resume` (the caller's spelling of a
    resume of `run_dir`) once an iteration is checkpointed, else run `again`. The CLI and compile say it alike."""
    if (run_dir / FILE).exists():
        return f"; carry on with: {resume}"
    return f" before the first iteration finished: there is nothing to resume; run {again} again"


def evaluation_from_dict(data: dict) -> Evaluation:
    return Evaluation(
        **{
            **data,
            "labels": tuple(data["labels"]),
            "per_label": {label: LabelScores(**scores) for label, scores in data["per_label"].items()},
            "scores": tuple(data["scores"]),
        }
    )


def critique_from_dict(data: dict) -> Critique:
    return Critique(
        **{
            **data,
            "example_ids": tuple(data["example_ids"]),
            "replies": tuple(data["replies"]),
            "received": tuple(Feedback(**item) for item in data["received"]),
        }
    )


def update_from_dict(data: dict) -> Update:
    return Update(
        **{
            **data,
            "changes": {name: tuple(pair) for name, pair in data["changes"].items()},
            "replies": tuple(data["replies"]),
            "edits": tuple(data.get("edits", ())),
        }
    )


def tried_from_dict(data: dict) -> Tried:
    return Tried(**{**data, "changes": {name: tuple(pair) for name, pair in data["changes"].items()}})


def demos_from_dict(data: dict) -> dict[str, list[Demo]]:
    return {name: [Demo(**demo) for demo in pairs] for name, pairs in data.items()}
