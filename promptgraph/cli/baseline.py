"""The baseline lines of `compile` and `evaluate`: TF-IDF + logistic regression beside the program.

compile fits it on the run's training split (the split compile makes, never the validation
examples) and scores it on the validation examples the program is scored on; it records in
the program which file and rows it trained on. evaluate fits it on those rows again (or on
every row of `--baseline-data`) and scores it on the evaluated examples, saying how many of
those were training examples (the program learnt from them too, so both scores flatter).
Both fit it before the program runs: texts it cannot be fitted on are told in one warning
line before any call is paid, and the run goes on without it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

from promptgraph.baseline import Baseline, tfidf_baseline
from promptgraph.cli.options import read_examples
from promptgraph.compile import CompileSettings, TrainingData
from promptgraph.data import DataError, Example
from promptgraph.program import Program

TRAINING_DATA = "training_data"  # the program.meta key: which file and rows compile trained on


def add_baseline_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline-data",
        help="labelled examples to fit the TF-IDF + logistic regression baseline on (default: the training rows "
        "of the file the program was compiled on, as compile recorded them)",
    )


def compile_baseline(
    arguments: argparse.Namespace, program: Program, trainset: Sequence[Example], valset: Sequence[Example] | None
) -> tuple[Baseline, list[str]]:
    """The baseline on the run's own split, and the ids of the rows it was fitted on. It costs no call, so
    compile fits it before the run: one that cannot be fitted says so before anything is paid for, and never
    ends a finished run."""
    split = _split(arguments, program, trainset, valset)
    baseline = warned(tfidf_baseline(split.trainset, split.valset, labels=program.labels, inputs=program.inputs))
    return baseline, [example.id for example in split.trainset]


def record_baseline(arguments: argparse.Namespace, program: Program, baseline: Baseline, fitted_on: list[str]) -> None:
    """The baseline in the program's meta, with the file and rows it was fitted on (evaluate fits it on them)."""
    program.meta["baseline"] = baseline.to_dict() | {"scored_on": "validation"}
    if arguments.data:
        program.meta[TRAINING_DATA] = {
            "path": str(Path(arguments.data).resolve()),
            "id_column": arguments.id_column,  # evaluate reads the rows by it, whatever its own --id-column
            "ids": fitted_on,
        }


def warned(baseline: Baseline) -> Baseline:
    """A baseline that cannot be fitted on these texts says why in one warning line."""
    if baseline.fit_error:
        print(f"promptgraph: warning: {baseline.note}", file=sys.stderr)
    return baseline


def _split(
    arguments: argparse.Namespace, program: Program, trainset: Sequence[Example], valset: Sequence[Example] | None
) -> TrainingData:
    """The split compile makes (the same seed, the same examples), so the baseline never sees a validation one."""
    settings = CompileSettings(val_per_label=arguments.val_per_label, seed=arguments.seed)
    return TrainingData.split(program, trainset, valset, settings)


def evaluate_baseline(arguments: argparse.Namespace, program: Program, examples: Sequence[Example]) -> Baseline:
    """The baseline fitted on the program's training rows (never an evaluated example) and scored on `examples`."""
    recorded = program.meta.get(TRAINING_DATA) if isinstance(program.meta.get(TRAINING_DATA), dict) else {}
    path = arguments.baseline_data or recorded.get("path")
    if not program.labels:
        return tfidf_baseline([], examples, labels=(), inputs=program.inputs)  # says it is for classifiers only
    if not path:
        return Baseline(None, note="baseline skipped: no training data known; give --baseline-data FILE")
    if not Path(path).is_file():
        return Baseline(None, note=f"baseline skipped: the training data {path} is not there; give --baseline-data")
    ids = set(recorded.get("ids") or ()) if not arguments.baseline_data else set()
    reading = arguments
    if ids and "id_column" in recorded:  # the recorded ids are in the column compile read them from
        reading = argparse.Namespace(**vars(arguments) | {"id_column": recorded["id_column"]})
    try:
        rows = read_examples(reading, path, labelled=True)
    except DataError as error:
        return Baseline(None, note=f"baseline skipped: {error}")
    trainset = [example for example in rows if not ids or example.id in ids]
    if ids and not trainset:
        return Baseline(None, note=f"baseline skipped: no row of {path} has an id compile trained on; "
                                   "give --baseline-data FILE")  # fmt: skip
    baseline = warned(tfidf_baseline(trainset, examples, labels=program.labels, inputs=program.inputs))
    seen = {_key(example) for example in trainset}
    overlap = sum(_key(example) in seen for example in examples)
    if overlap and baseline.evaluation is not None:  # the program was trained on them too: say so, hide nothing
        note = f" ({overlap} of the {len(examples)} examples scored were training examples: both scores flatter)"
        baseline = attrs.evolve(baseline, note=note)
    return baseline


def _key(example: Example) -> tuple:
    return tuple(sorted(example.inputs.items()))
