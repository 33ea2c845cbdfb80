"""Labelled examples: loading them from CSV or JSONL, splitting, and sampling per label.

Every random choice takes a seed, and every listing is in a stable order (labels in
the order given or first seen, examples in file order), so a run can be repeated.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import attrs


class DataError(ValueError):
    """Data that cannot be used as given; the message says what to change."""


@attrs.frozen(hash=False)
class Example:
    inputs: dict[str, str]
    label: str | None = None
    note: str | None = None  # an optional hint for the critic, e.g. why the label is what it is
    id: str = ""
    always: bool = False  # a canonical example: in every training minibatch and every critique


def load_examples(path: str | Path, **columns: Any) -> list[Example]:
    """Every example of a CSV or JSONL file; the columns are chosen as in `iter_examples`."""
    examples = list(iter_examples(path, **columns))
    if not examples:
        raise DataError(f"{path} has no rows")
    return examples


def iter_examples(
    path: str | Path,
    *,
    inputs: Sequence[str] | Mapping[str, str] = ("text",),
    label: str | None = "label",
    note: str | None = None,
    id: str | None = None,
    label_map: Mapping[str, str] | None = None,
    always: str | None = None,
) -> Iterator[Example]:
    """Examples one at a time, in file order, in constant memory (for labelling large files).

    `inputs` names the columns fed to the program; a mapping renames them
    ({"question_text": "text"} reads column question_text as input "text").
    `label_map` turns raw label values into names (e.g. {"0": "sincere", "1": "insincere"}).
    `always` names a column that flags canonical examples (1/true/yes/always).
    """
    path = Path(path)
    columns = dict(inputs) if isinstance(inputs, Mapping) else {name: name for name in inputs}
    wanted = [*columns, *(name for name in (label, note, id, always) if name)]
    for number, (line, row) in enumerate(_rows(path), start=1):
        if not isinstance(row, dict):
            raise DataError(f"{path} line {line} is not an object of named fields: {str(row)[:80]}")
        missing = [name for name in wanted if name not in row]
        if missing:
            where = "" if number == 1 else f" line {line}"
            columns_there = ", ".join(row)
            raise DataError(
                f"{path}{where} has no column {', '.join(map(repr, missing))}; its columns are {columns_there}"
            )
        if label is not None and row[label] is None:
            raise DataError(f"{path} line {line} has no value for the label column {label!r}")
        value = None if label is None else str(row[label]).strip()
        if label_map is not None and value is not None:
            if value not in label_map:
                raise DataError(f"{path} line {line}: label {value!r} is not in the label map {dict(label_map)}")
            value = label_map[value]
        yield Example(
            inputs={field: str(row[column]) for column, field in columns.items()},
            label=value,
            note=str(row[note]) if note and row[note] not in (None, "") else None,
            id=str(row[id]) if id else str(number),
            always=_flag(row[always], f"{path} line {line}", always) if always else False,
        )


TRUE = ("1", "true", "yes", "y", "always")
FALSE = ("", "0", "false", "no", "n", "none")


def _flag(value: Any, where: str, column: str) -> bool:
    text = str(value).strip().lower() if value is not None else ""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise DataError(f"{where}: {column!r} is {value!r}; write 1/true/yes for a canonical example, or leave it empty")


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each record of a CSV or JSONL file."""
    if not path.exists():
        raise DataError(f"{path} does not exist")
    with path.open("rb") as handle:
        lines = _decoded(handle, path)
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError as error:
                        raise DataError(f"{path} line {number} is not JSON: {error}") from None
            return
        reader = csv.DictReader(lines)
        for row in reader:
            if None in row or None in row.values():
                raise DataError(
                    f"{path} line {reader.line_num} has {len(row)} fields, not the "
                    f"{len(reader.fieldnames or [])} the header names"
                )
            yield reader.line_num, row


def _decoded(handle: BinaryIO, path: Path) -> Iterator[str]:
    """Lines as text, line by line, so a byte that is not UTF-8 is reported at its line."""
    for number, raw in enumerate(handle, start=1):
        try:
            yield raw.decode(
                "utf-8-sig" if number == 1 else "utf-8"
            )  # a spreadsheet's byte-order mark is not a column name
        except UnicodeDecodeError as error:
            raise DataError(
                f"{path} line {number} is not UTF-8 (byte {raw[error.start]:#04x}); save the file as UTF-8"
            ) from None


def labels_of(examples: Iterable[Example]) -> list[str]:
    """The labels in the order they first appear."""
    return list(dict.fromkeys(example.label for example in examples if example.label is not None))


def by_label(examples: Iterable[Example], *, stratify: bool = True) -> dict[str, list[Example]]:
    """Examples grouped by label; with `stratify=False` (free-text targets), one group of all."""
    groups: dict[str, list[Example]] = {}
    for example in examples:
        groups.setdefault(example.label if stratify else "", []).append(example)
    return groups


def require_labels(
    trainset: Sequence[Example], valset: Sequence[Example] = (), *, classifier: bool = True
) -> list[str]:
    """Check a trainset can train a program (a classifier: two labels or more); return its labels."""
    if not trainset:
        raise DataError("the trainset is empty")
    if any(example.label is None for example in trainset):
        raise DataError("every training example needs a label")
    labels = labels_of(trainset)
    if not classifier:  # free-text targets: any answer may appear in the valset alone
        return labels
    if len(labels) < 2:
        raise DataError(f"the trainset has a single label ({labels[0]!r}); a classifier needs at least two")
    unknown = sorted(set(labels_of(valset)) - set(labels))
    if unknown:
        raise DataError(f"the valset has labels the trainset lacks: {', '.join(unknown)}")
    return labels


def stratified_sample(
    examples: Sequence[Example], per_label: int, *, seed: int, stratify: bool = True
) -> list[Example]:
    """Up to `per_label` examples of each label (or in all, unstratified), chosen with `seed`.

    Canonical examples (`always`) are in every sample, on top of the ones drawn.
    """
    rng = random.Random(seed)
    sample = [example for example in examples if example.always]
    for group in by_label([e for e in examples if not e.always], stratify=stratify).values():
        sample.extend(rng.sample(group, min(per_label, len(group))))
    return sample


def stratified_split(
    examples: Sequence[Example], per_label: int, *, seed: int, stratify: bool = True
) -> tuple[list[Example], list[Example]]:
    """(rest, held out): up to `per_label` of each label (or in all) held out, at most half of a group."""
    rng = random.Random(seed)
    held = set()
    for label, group in by_label(examples, stratify=stratify).items():
        if len(group) < 2:
            raise DataError(
                f"label {label!r} has only {len(group)} example; a validation split needs at least 2 of each "
                "label (add examples, or pass a separate valset)"
            )
        count = min(per_label, len(group) // 2)
        candidates = [example for example in group if not example.always]  # canonical ones stay in training
        held.update(id(example) for example in rng.sample(candidates, min(count, len(candidates))))
    rest = [example for example in examples if id(example) not in held]
    held_out = [example for example in examples if id(example) in held]
    return rest, held_out
