"""Optimizers compared at equal budgets, printed as a table.

    python benchmarks/optimizers.py                 # the scripted task (seconds)
    python benchmarks/optimizers.py --local         # also insincere questions on the local model (minutes)

The scripted task is the tests' (tests/search_world.py): a forward model whose accuracy is
a known function of which rules its system prompt holds, one of which needs a second rule
before it helps. Every optimizer gets the same USD budget (at list prices for the model
names the scripted models carry) and at most `--iterations` iterations; accuracy is
reported on the validation split and on a test set held out of everything.

With `--local`, the same optimizers run on `../shared/data/qiqc_truncated.csv` with
SmolLM2-135M on llama-server as both the forward and the optimizer model (no key needed),
with no response cache; USD is not applicable there, so they get equal iterations.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tables import table  # benchmarks/tables.py: scripts run from this directory

import promptgraph as pg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "qiqc_truncated.csv"

Factory = Callable[[pg.LM], pg.optimizers.Optimizer]
OPTIMIZERS: dict[str, Factory] = {
    "TextualGradientDescent": lambda strong: pg.TextualGradientDescent(lm=strong),
    "TGD + gate": lambda strong: pg.TextualGradientDescent(lm=strong, gate=pg.Gate()),
    "TGD + gate, edit mode": lambda strong: pg.TextualGradientDescent(lm=strong, gate=pg.Gate(), edits=True),
    "BeamSearch": lambda strong: pg.BeamSearch(lm=strong),
    "OPRO": lambda strong: pg.OPRO(lm=strong),
    "ProposeInstructions, then TGD + gate": lambda strong: pg.ProposeInstructions(
        lm=strong, then=pg.TextualGradientDescent(lm=strong, gate=pg.Gate())
    ),
    "BootstrapDemos": lambda strong: pg.BootstrapDemos(),
    "TGD + gate and BootstrapDemos": lambda strong: pg.Chain(
        pg.TextualGradientDescent(lm=strong, gate=pg.Gate()), pg.BootstrapDemos()
    ),
}


# On the local model the optimizer is SmolLM2-135M too: its replies are short or not JSON at
# all, so every optimizer call is capped at 400 tokens to keep a run to minutes.
SHORT = 400
LOCAL_OPTIMIZERS: dict[str, Factory] = {
    "TGD + gate": lambda lm: pg.TextualGradientDescent(
        lm=lm, gate=pg.Gate(per_label=10), max_tokens=SHORT, limits=pg.CritiqueLimits(max_tokens=SHORT)
    ),
    "OPRO": lambda lm: pg.OPRO(lm=lm, proposals=3, dev_per_label=10, max_tokens=SHORT),
    "ProposeInstructions": lambda lm: pg.ProposeInstructions(lm=lm, candidates=4, dev_per_label=10, max_tokens=SHORT),
    "BootstrapDemos": lambda lm: pg.BootstrapDemos(candidates=4, dev_per_label=10),
}


def row(name: str, result: pg.CompileResult, test: pg.Evaluation, seconds: float, priced: bool) -> tuple:
    return (
        name,
        f"{result.history[0].val.score:.3f}",
        f"{result.best.val.score:.3f}",
        f"{test.score:.3f}",
        len(result.history) - 1,
        result.ledger.calls,
        f"{result.ledger.usd:.4f}" if priced else "n/a",
        f"{seconds:.1f}",
        result.stopped.split(";")[0] if result.stopped else "",
    )


HEADER = ("optimizer", "val before", "val best", "test", "iterations", "calls", "USD", "wall s", "stopped")


def scripted(iterations: int, budget: float) -> None:
    from tests import search_world as world

    print(f"## Scripted task: equal budget of ${budget} (at most {iterations} iterations)\n")
    examples = world.questions(400)
    trainset, test = examples[:300], examples[300:]
    rows = []
    for name, factory in OPTIMIZERS.items():
        started = time.perf_counter()
        result = pg.compile(
            world.classifier(), trainset=trainset, lm=world.forward_lm(), optimizer=factory(world.optimizer_lm()),
            iterations=iterations, samples_per_label=10, val_per_label=20, budget_usd=budget, progress=False,
        )  # fmt: skip
        scored = pg.evaluate(result.program.run(test, lm=world.forward_lm(), progress=False), labels=world.LABELS)
        rows.append(row(name, result, scored, time.perf_counter() - started, priced=True))
    table(HEADER, rows)
    print("Best possible: 1.000 (rules A, B and C). One greedy rewrite adds A alone, which scores 0.400.\n")


def local(iterations: int, test_per_label: int) -> None:
    from promptgraph.data import load_examples, stratified_split
    from promptgraph.lm.local import LocalServer

    print(f"## Insincere questions on the local model ({iterations} iterations each)\n")
    labels = {"0": "sincere", "1": "insincere"}
    examples = load_examples(DATA, inputs={"question_text": "text"}, label="target", id="qid", label_map=labels)
    trainset, test = stratified_split(examples, test_per_label, seed=99)
    fmt = "Is the question sincere or insincere? End with Label: <label>sincere</label> or Label: <label>insincere</label>."
    rows = []
    with LocalServer() as server:
        lm = server.lm()
        for name, factory in LOCAL_OPTIMIZERS.items():
            program = pg.Program.of(pg.Classify(["sincere", "insincere"], system=fmt, max_tokens=64), name="classify")
            started = time.perf_counter()
            result = pg.compile(
                program, trainset=trainset, lm=lm, optimizer=factory(lm), iterations=iterations,
                samples_per_label=10, val_per_label=15, progress=False,
            )  # fmt: skip
            scored = pg.evaluate(result.program.run(test, lm=lm, progress=False), labels=["sincere", "insincere"])
            rows.append(row(name, result, scored, time.perf_counter() - started, priced=False))
            print(f"done: {name}", file=sys.stderr)
    table(HEADER, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--budget-usd", type=float, default=0.5)
    parser.add_argument(
        "--local", action="store_true", help="also run on the local model (needs `promptgraph local setup`)"
    )
    parser.add_argument("--local-iterations", type=int, default=2)
    parser.add_argument("--test-per-label", type=int, default=30)
    arguments = parser.parse_args()
    print(f"# optimizers, {time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}\n")
    scripted(arguments.iterations, arguments.budget_usd)
    if arguments.local:
        local(arguments.local_iterations, arguments.test_per_label)


if __name__ == "__main__":
    main()
