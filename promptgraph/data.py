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

from promptgraph.errors import PromptgraphError
from promptgraph.lm.reprs import short, short_mapping

NOTE_IN_REPR = 20  # the hint for the critic is recognised by its start: the inputs come first


class DataError(ValueError, PromptgraphError):
    """Data that cannot be used as given; the message says what to change."""


@attrs.frozen(hash=False)
class Example:
    """One example: its `inputs` by name, its gold `label`, an optional `note` for the critic, an `id`.

    `pg.Example(inputs={"text": "Why is the sky blue?"}, label="sincere", id="q1")`; DSPy's
    `Example(question=...).with_inputs("question")` is `Example(inputs={"question": ...}, label=...)`.
    `pg.load_examples(path, ...)` reads them from CSV or JSONL.
    """

    inputs: dict[str, str]
    label: str | None = None
    note: str | None = None  # an optional hint for the critic, e.g. why the label is what it is
    id: str = ""
    always: bool = False  # a canonical example: in every training minibatch and every critique

    def __repr__(self) -> str:
        parts = [f"id={self.id!r}"] if self.id else []
        parts += [f"label={short(self.label)}"] if self.label is not None else []
        parts.append(f"inputs={short_mapping(self.inputs, shown=2)}")  # two texts of 40 characters: one line
        parts += [f"note={short(self.note, NOTE_IN_REPR)}"] if self.note is not None else []
        parts += ["always=True"] if self.always else []
        return f"Example({', '.join(parts)})"


def load_examples(path: str | Path, **columns: Any) -> list[Example]:
    """Every example of a CSV or JSONL file; the columns are chosen as in `iter_examples`."""
    examples = list(iter_examples(path, unique_ids=True, **columns))
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
    unique_ids: bool = False,
) -> Iterator[Example]:
    """Examples one at a time, in file order, in constant memory (for labelling large files).

    `inputs` names the columns fed to the program; a mapping renames them
    ({"question_text": "text"} reads column question_text as input "text").
    `label_map` turns raw label values into names (e.g. {"0": "sincere", "1": "insincere"}).
    `always` names a column that flags canonical examples (1/true/yes/always).
    A row with an empty (or null) input, label or id is refused, naming its line and column;
    with `unique_ids`, so is an id seen before (ids name examples in splits and checkpoints;
    remembering them all costs memory, which a stream of rows to label need not spend).
    """
    path = Path(path)
    columns = dict(inputs) if isinstance(inputs, Mapping) else {name: name for name in inputs}
    wanted = [*columns, *(name for name in (label, note, id, always) if name)]
    seen: dict[str, int] = {}
    for number, (line, row) in enumerate(_rows(path), start=1):
        where = f"{path} line {line}"
        if not isinstance(row, dict):
            raise DataError(f"{where} is not an object of named fields: {str(row)[:80]}")
        missing = [name for name in wanted if name not in row]
        if missing:
            columns_there = ", ".join(row)
            raise DataError(
                f"{path if number == 1 else where} has no column {', '.join(map(repr, missing))}; "
                f"its columns are {columns_there}"
            )
        example_id = _text(row[id], where, id) if id else str(number)
        if unique_ids and id:
            if example_id in seen:
                raise DataError(
                    f"{where} repeats the {id!r} {example_id!r} of line {seen[example_id]}; ids must be unique"
                )
            seen[example_id] = line
        yield Example(
            inputs={field: _text(row[column], where, column) for column, field in columns.items()},
            label=None if label is None else _label(row[label], where, label, label_map),
            note=str(row[note]) if note and row[note] not in (None, "") else None,
            id=example_id,
            always=_flag(row[always], where, always) if always else False,
        )


# How a missing value looks in a file written by pandas or a spreadsheet.
NOT_A_LABEL = ("", "nan")


def _label(value: Any, where: str, column: str, label_map: Mapping[str, str] | None) -> str:
    text = "" if value is None else str(value).strip()
    if label_map is not None and text in label_map:  # mapped on purpose, even a blank
        return label_map[text]
    if value is None or text.lower() in NOT_A_LABEL:
        shown = "null" if value is None else "empty" if not text else repr(text)
        raise DataError(f"{where} has no label: {column!r} is {shown}; fill it in or drop the row")
    if label_map is not None:
        raise DataError(
            f"{where}: label {text!r} is not one of the labels given ({', '.join(label_map)}); add or map it"
        )
    return text


def _text(value: Any, where: str, column: str) -> str:
    """A field as text; a value that is not one (null, a list, nothing) is refused, not sent as 'None'."""
    if value is None:
        raise DataError(f"{where}: {column!r} is null; give it a value or drop the row")
    if isinstance(value, (dict, list)):
        raise DataError(f"{where}: {column!r} is not text but a JSON {type(value).__name__}")
    text = str(value)
    if not text.strip():
        raise DataError(f"{where}: {column!r} is empty; give it a value or drop the row")
    return text


TRUE = ("1", "true", "yes", "y", "always")
FALSE = ("", "0", "false", "no", "n", "none")


def _flag(value: Any, where: str, column: str) -> bool:
    text = str(value).strip().lower() if value is not None else ""
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise DataError(f"{where}: {column!r} is {value!r}; write 1/true/yes for a canonical example, or leave it empty")


# A long text is cut for the prompt later, with a warning (modules/prompt.py); the reader
# must not refuse it first, as the csv module does past 128 KiB by default.
MAX_FIELD_CHARS = 2**31 - 1


def _rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each record of a CSV or JSONL file."""
    if not path.exists():
        raise DataError(f"{path} does not exist")
    if path.is_dir():
        raise DataError(f"{path} is a directory; give a .csv or .jsonl file")
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
        yield from _csv_rows(lines, path)


def _csv_rows(lines: Iterator[str], path: Path) -> Iterator[tuple[int, dict]]:
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(f"{path}: the header names column {', '.join(map(repr, repeated))} twice; rename one")
    end = reader.line_num
    for fields in reader:
        start, end = end + 1, reader.line_num  # a quoted field may span lines: a row is named by its first
        if not fields:  # a blank line
            continue
        if len(fields) != len(header):
            count = f"{len(fields)} field" + ("s" if len(fields) != 1 else "")
            spans = f" (it runs on to line {end}: is a quote left open?)" if end > start else ""
            raise DataError(f"{path} line {start} has {count}, but the header names {len(header)}{spans}")
        yield start, dict(zip(header, fields, strict=True))


def _decoded(handle: BinaryIO, path: Path) -> Iterator[str]:
    """Lines as text, line by line, so a byte that is not UTF-8 is reported at its line."""
    offset = 0
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise DataError(f"{path} is UTF-16 (a spreadsheet's 'Unicode text'); save it as CSV UTF-8")
        if number == 1 and raw.startswith(b"PK\x03\x04"):
            raise DataError(f"{path} is a zip file (a spreadsheet?); export it as CSV UTF-8")
        try:
            # A spreadsheet's byte-order mark is not a column name.
            yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise DataError(
                f"{path} line {number} is not UTF-8 (byte {raw[error.start]:#04x} at offset {offset + error.start}); "
                "save the file as UTF-8, e.g. iconv -f latin1 -t utf-8"
            ) from None
        offset += len(raw)


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
    trainset: Sequence[Example],
    valset: Sequence[Example] = (),
    *,
    classifier: bool = True,
    source: str = "the trainset",
    expected: Sequence[str] = (),
) -> list[str]:
    """Check a trainset can train a program (a classifier: two labels or more); return its labels.

    `source` names the trainset in errors (its file), `expected` the labels the user gave, so that a
    single-label error can say which of them has no row.
    """
    if not trainset:
        raise DataError("the trainset is empty")
    if any(example.label is None for example in trainset):
        raise DataError("every training example needs a label")
    labels = labels_of(trainset)
    if not classifier:  # free-text targets: any answer may appear in the valset alone
        return labels
    if len(labels) < 2:
        missing = ", ".join(repr(label) for label in expected if label not in labels)
        lacking = f", no row labelled {missing}" if missing else ""
        raise DataError(f"{source} has a single label ({labels[0]!r}){lacking}; a classifier needs at least two")
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
