"""`promptgraph synthesize`: a labelled trainset from class descriptions, and the same for `compile --classes`."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from promptgraph.cli.arguments import new_file, positive_int
from promptgraph.cli.backend import Backend, add_backend_options, open_backend
from promptgraph.cli.options import effort_of
from promptgraph.data import Example, load_examples
from promptgraph.lm import Ledger
from promptgraph.synthetic import Classes, Synthesized, synthesize

SYNTHETIC_FILE = "synthetic.csv"


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "synthesize",
        help="write a labelled trainset from descriptions of the classes",
        description="No data yet: the optimizer model writes a labelled trainset from a sentence per class "
        "(and any real examples you have), to compile on.",
        epilog="""example:
  promptgraph synthesize classes.json --per-class 50 --output synthetic.csv""",
    )
    command.add_argument(
        "classes",
        help='the classes: a .json object {"name": "description"}, or .jsonl lines of '
        '{"class_name": ..., "description": ..., "examples": [...]}',
    )
    command.add_argument("--output", type=new_file, required=True, help="where to write the trainset: .csv or .jsonl")
    command.add_argument("--seed", type=int, default=0, help="seeds what the model is asked: same seed, same trainset")
    add_synthesis_options(command)
    add_backend_options(command, optimizer=True)
    command.set_defaults(run=run_synthesize)


def add_synthesis_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("synthetic data")
    group.add_argument(
        "--examples", help='real examples to add: .jsonl lines of {"class_name": ..., "examples": [...]}'
    )
    group.add_argument("--per-class", type=positive_int, default=50, help="synthetic examples per class (default 50)")


def load_classes(arguments: argparse.Namespace) -> Classes:
    classes = Classes.load(arguments.classes)
    if arguments.examples:
        for name, texts in Classes.load(arguments.examples).examples.items():
            classes.add_examples(name, texts)
    return classes


def run_synthesize(arguments: argparse.Namespace) -> int:
    classes = load_classes(arguments)
    ledger = Ledger()
    with open_backend(arguments) as backend:
        result = synthesize(classes, lm=backend.optimizer, per_class=arguments.per_class, seed=arguments.seed,
                            ledger=ledger, effort=effort_of(arguments.optimizer_effort))  # fmt: skip
    path = result.save(arguments.output)
    print(report(result, ledger))
    print(f"\nwrote {len(result.examples)} examples to {path}")
    return 0


def report(result: Synthesized, ledger: Ledger) -> str:
    lines = [result.balance()]
    lines += [f"skipped: {why}" for why in result.skipped]
    return "\n".join([*lines, "", ledger.table()])


def synthetic_trainset(
    arguments: argparse.Namespace, backend: Backend, out: Path, ledger: Ledger
) -> tuple[list[Example], list[Example]]:
    """(trainset, real held-out set) for `compile --classes`.

    Half of each class's real examples (rounded down) are held out before synthesis: they
    are never shown to the model that writes the data, and nothing close to them is kept.
    The rest train alongside the synthetic examples. A resumed run reads the synthetic set
    it wrote, rather than writing another.
    """
    classes = load_classes(arguments)
    rng = random.Random(arguments.seed)
    held_out: list[Example] = []
    untested = []
    for name, texts in classes.examples.items():
        shuffled = rng.sample(texts, len(texts))
        cut = len(shuffled) // 2
        held_out += [Example({"text": text}, name, id=f"real-test-{name}-{n}") for n, text in enumerate(shuffled[:cut])]
        classes.examples[name] = shuffled[cut:]
        if cut == 0:
            untested.append(name)
    if untested:
        print(f"{', '.join(untested)}: one real example only, used for training; the real test leaves this out")
    path = out / SYNTHETIC_FILE
    if arguments.resume and path.exists():
        synthetic = load_examples(path, inputs=("text",), label="label", id="id")
    else:
        result = synthesize(classes, lm=backend.optimizer, per_class=arguments.per_class, seed=arguments.seed,
                            avoid=[e.inputs["text"] for e in held_out], ledger=ledger,
                            effort=effort_of(arguments.optimizer_effort))  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        result.save(path)
        print(result.balance())
        for why in result.skipped:
            print(f"skipped: {why}")
        synthetic = list(result.examples)
    real = [
        Example({"text": text}, name, id=f"real-{name}-{n}")
        for name, texts in classes.examples.items()
        for n, text in enumerate(texts)
    ]
    return synthetic + real, held_out
