"""Labelled examples: loading them from CSV or JSONL, splitting, and sampling per label.

Every random choice takes a seed, and every listing is in a stable order (labels in
the order given or first seen, examples in file order), so a run can be repeated.
"""

from __future__ import annotations

import csv
import json
import numbers
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


def checked_examples(examples: object, *, name: str, inputs: Sequence[str] = (), ids: bool = False) -> list[Example]:
    """`examples` as a list, each checked as a file's row is, before anything is sent: what an Example
    given in Python may get wrong is refused with its position (`name[3]`), as a file's row is with its line.

    `name` names the argument ("trainset"), `inputs` the program inputs every example must give, `ids`
    whether every example needs an id (a run directory keeps its scores by example id); without one, an
    example with no id takes its place as its id ("trainset[3]"). A generator is read once, here. An int
    label becomes text, as a Classify's labels do (`Classify([0, 1])` has the labels "0" and "1"): a DSPy
    user's 0/1 labels then match the classifier's, rather than score 0 everywhere.
    """
    if isinstance(examples, (str, bytes, Mapping, Example)) or not isinstance(examples, Iterable):
        raise DataError(f"{name} must be a list of pg.Example, not a {type(examples).__name__}")
    checked, seen = [], {}
    for index, example in enumerate(list(examples)):
        where = f"{name}[{index}]"
        example = _checked_example(example, where, inputs)
        if example.id and example.id in seen:
            raise DataError(
                f"{where} and {name}[{seen[example.id]}] have the same id {example.id!r}; "
                "ids must be unique (they name examples in checkpoints and reports)"
            )
        if ids and not example.id:
            raise DataError(
                f"{where} has no id; with a run_dir every example needs a unique id=... "
                "(the checkpoint keeps what was scored by example id)"
            )
        if example.id:
            seen[example.id] = index
        checked.append(example)
    return [_named_by_place(example, f"{name}[{index}]", seen) for index, example in enumerate(checked)]


def refuse_shared_examples(trainset: Sequence[Example], valset: Sequence[Example]) -> None:
    """An example in both the trainset and the valset (the same id) is refused: a run validated on what it
    trained on scores itself too well. Ids given by place (trainset[3]) never match across the two."""
    train_places = {example.id: index for index, example in enumerate(trainset) if example.id}
    for index, example in enumerate(valset):
        if example.id in train_places:
            raise DataError(
                f"valset[{index}] has the id {example.id!r} of trainset[{train_places[example.id]}]: an example in "
                "both would be validated on what it trained on; take it out of one of them"
            )


def _named_by_place(example: Example, place: str, seen: Mapping[str, int]) -> Example:
    """An example without an id takes its place as one ("trainset[3]"): optimizers remember examples by id
    (ParetoSearch its parents' failures), and DSPy's examples come without."""
    if example.id:
        return example
    if place in seen:
        raise DataError(f"{place} has no id, and another example's id is {place!r}: give {place} an id=... too")
    return attrs.evolve(example, id=place)


def _checked_example(example: object, where: str, inputs: Sequence[str]) -> Example:
    """The example, its int label and id as text; an input that is null or blank, or missing, is refused."""
    if not isinstance(example, Example):
        raise DataError(
            f"{where} is a {type(example).__name__}, not a pg.Example: "
            "write pg.Example(inputs={'text': ...}, label=..., id=...)"
        )
    if not isinstance(example.inputs, Mapping):
        raise DataError(f"{where}: inputs must be a dict of input name to text, not a {type(example.inputs).__name__}")
    where = f"{where} (id {example.id!r})" if example.id else where
    missing = [field for field in inputs if field not in example.inputs]
    if missing:
        raise DataError(
            f"{where} has no input {', '.join(map(repr, missing))}; its inputs are {', '.join(example.inputs) or 'none'}"
        )
    for field, value in example.inputs.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            shown = "None" if value is None else "empty"
            raise DataError(f"{where}: input {field!r} is {shown}; give it a value or drop the example")
    label, example_id = _label_text(example.label, where), _id_text(example.id, where)
    if label is example.label and example_id is example.id:
        return example  # the user's own object, unchanged
    return attrs.evolve(example, label=label, id=example_id)


def _label_text(label: object, where: str) -> object:
    """An integer label (numpy's too, as pandas reads them) as text; a float, bool or blank label is refused,
    saying what to write (1.0 would never equal "1")."""
    if isinstance(label, bool) or (is_scalar_number(label) and not isinstance(label, numbers.Integral)):
        number = float(label) if not isinstance(label, bool) else None
        text = str(int(number)) if number is not None and number.is_integer() else str(label)
        raise DataError(
            f"{where}: label {label!r} is a {type(label).__name__}; labels are text: write label={text!r}"
            + (" (a column of whole numbers with gaps reads as floats)" if number is not None else "")
        )
    if isinstance(label, numbers.Integral):
        return str(int(label))
    if isinstance(label, str) and not label.strip():
        raise DataError(f"{where}: the label is empty; give it one or drop the example")
    return label  # text, None (unlabelled), or a structured answer (a list for a list output)


def is_scalar_number(value: object) -> bool:
    """A number of any kind (numpy's bool and floats too), not text."""
    return not isinstance(value, (str, bytes)) and hasattr(value, "__float__")


def _id_text(value: object, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    raise DataError(f"{where}: id {value!r} is a {type(value).__name__}; ids are text: write id={str(value)!r}")


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
