"""What a run really ran on, and the report's list of settings built from it.

`promptgraph compile` leaves the command line in the run directory's command.json, defaults
included: a local run's file says `model claude-haiku-5-5` though SmolLM2 answered, and names
no optimizer when the backend chose one. So whoever starts the run may say what it ran on
(`RunSetup`), and those facts take the place of command.json's guesses on the page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import attrs

from promptgraph.compile import IterationRecord
from promptgraph.lm import Ledger
from promptgraph.optimizers.knn import describe
from promptgraph.parameter import Demo, Demos
from promptgraph.program import Program

COMMAND_FILE = "command.json"  # what `promptgraph compile` remembers of a run (cli/train.py), read here, not imported
# command.json's keys that say what the run was asked to run on; a RunSetup says what it did run on.
REPLACED = ("lm", "base_url", "model", "optimizer", "optimizer_model")


@attrs.frozen
class RunSetup:
    """The backend, the models and the optimizer a run used, for the report's settings.

    Args:
        backend: where the calls went, e.g. "local: llama-server on 127.0.0.1".
        model: the model that ran the program.
        optimizer: its name and what it does, e.g. "knn: KNNDemos(k=4), each input shown ...".
        optimizer_model: the model the optimizer calls; None when it calls none (knn, demos).
    """

    backend: str
    model: str
    optimizer: str
    optimizer_model: str | None = None

    def settings(self, program: Program | None) -> dict[str, str]:
        """As the report lists them; a retrieval pool the program holds is named with the optimizer."""
        pools = [f"{name}: {describe(demos)}" for name, demos in _pools(program)]
        shown = {
            "backend": self.backend,
            "model": self.model,
            "optimizer": "; ".join([self.optimizer, *pools]),
        }
        if self.optimizer_model is not None:
            shown["optimizer model"] = self.optimizer_model
        return shown


def _pools(program: Program | None) -> list[tuple[str, Demos]]:
    """(name, Demos) of every retrieval pool in the program, which shows each input only its nearest."""
    if program is None:
        return []
    return [(name, demos) for name, demos in program.named_demos() if demos.retriever is not None and demos.pairs]


def demo_summaries(program: Program | None, demos: dict[str, list[Demo]]) -> dict[str, str]:
    """Per demos parameter of the best program: how many are shown, or the pool they are retrieved from."""
    pools = dict(_pools(program))
    summaries = {}
    for name, pairs in demos.items():
        if not pairs:
            continue
        pool = pools.get(name)
        if pool is not None:  # a pool is not sent whole: each input gets its k nearest
            summaries[name] = describe(Demos(pairs, retriever=pool.retriever))
        else:
            summaries[name] = f"{len(pairs)} few-shot demo{'s' if len(pairs) > 1 else ''}"
    return summaries


def run_settings(
    directory: Path,
    history: Sequence[IterationRecord],
    ledger: Ledger,
    setup: RunSetup | None = None,
    program: Program | None = None,
) -> tuple[str, dict[str, str]]:
    """Where the run's settings come from and what they are: the CLI's command.json in the run directory
    (the report's parent) when it wrote one, else what the history and the ledger know; with a `setup`,
    its facts first, in place of command.json's model, backend and optimizer options."""
    used = setup.settings(program) if setup is not None else {}
    for path in (directory / COMMAND_FILE, directory.parent / COMMAND_FILE):
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(saved, dict):
            if setup is not None:
                saved = _without_what_setup_says(saved, setup)
            shown = {key: str(value) for key, value in saved.items() if value not in (None, False, "", [])}
            return f"the command line ({path.name})", used | shown
    return "the history (compile was called from Python: no command.json)", used | _known(history, ledger, setup)


def _without_what_setup_says(saved: dict, setup: RunSetup) -> dict:
    """command.json's settings less those the setup replaces; an optimizer that calls no model has no effort."""
    dropped = (*REPLACED, "optimizer_effort") if setup.optimizer_model is None else REPLACED
    return {key: value for key, value in saved.items() if key not in dropped}


def _known(history: Sequence[IterationRecord], ledger: Ledger, setup: RunSetup | None) -> dict[str, str]:
    known = {
        "iterations run": str(len(history) - 1),
        "validation examples": str(history[0].val.count),
        "labels": ", ".join(history[0].val.labels) or "none",
    }
    trained = [record.train.count for record in history if record.train]
    if trained:
        known["training minibatch"] = (
            f"{min(trained)} to {max(trained)}" if min(trained) != max(trained) else str(trained[0])
        )
    if setup is None:  # else the setup names the models
        for account in ledger.accounts():
            known.setdefault(f"model ({account.tag})", account.model)
    return known
