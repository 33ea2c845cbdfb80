"""`promptgraph predict`: label texts with a saved program, at any scale.

Input is read as a stream and labelled in chunks; each chunk is written (and flushed) as
soon as it is done, so memory does not grow with the file and an interrupted run loses at
most one chunk. Rerun the same command with the same `--output` and it carries on after
the rows already written (they are counted, not held in memory).
"""

from __future__ import annotations

import argparse
import collections
import csv
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from promptgraph.cli.arguments import output_file, text
from promptgraph.cli.backend import add_backend_options, batching, open_backend
from promptgraph.cli.options import add_data_options, input_columns, load_program, require_inputs
from promptgraph.data import Example, iter_examples

BATCH_CHUNK_ROWS = 10_000  # rows per Message Batch: big enough to batch, small enough to hold in memory


def add_command(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser("predict", help="label texts with a saved program")
    predict.add_argument("program", help="a saved program (.json), or file.py:function")
    predict.add_argument("data", nargs="?", help="texts to label, .csv or .jsonl (or use --text)")
    predict.add_argument("--text", type=text, action="append", default=[], help="a text to label; repeat for more")
    predict.add_argument(
        "--output", type=output_file, help="write .csv or .jsonl here, resuming if it exists (default: CSV on stdout)"
    )
    add_data_options(predict, labelled=False)
    add_backend_options(predict, optimizer=False)
    predict.set_defaults(run=run_predict)


def run_predict(arguments: argparse.Namespace) -> int:
    program = load_program(arguments.program)
    # Every row is read once before anything is written or sent (in constant memory): a bad
    # row at the end of a big file stops the run now, not after paying for the rows before it.
    collections.deque(_examples(arguments, program.inputs), maxlen=0)
    examples = _examples(arguments, program.inputs)
    output = Path(arguments.output) if arguments.output else None
    done, last_id = written_rows(output) if output else (0, None)
    if done:
        skipped = list(itertools.islice(examples, done))
        if len(skipped) < done or skipped[-1].id != last_id:
            raise ValueError(f"{output} does not match the start of the input (row {done}); move it away to start over")
        print(f"promptgraph: {done} rows already in {output}; labelling the rest", file=sys.stderr)
    field = program.outputs[0]
    with open_backend(arguments) as backend, RowWriter(output, ["id", field, "status"], append=done > 0) as writer:
        # With --batch, each chunk is one batch (or one per step of a pipeline); its ids are
        # kept beside the output, so a rerun polls the same batch instead of paying again.
        batch = batching(arguments, state=output.with_name(output.name + ".batches.json") if output else None)
        chunk_size = BATCH_CHUNK_ROWS if batch else max(64, 8 * backend.forward.max_concurrency)
        with tqdm(desc="predict", unit="row", disable=None, initial=done) as bar:
            while chunk := list(itertools.islice(examples, chunk_size)):
                traces = program.run(chunk, lm=backend.forward, tag="predict", progress=False, batch=batch)
                writer.write([[t.example.id, "" if t.prediction is None else t.prediction, t.status] for t in traces])
                bar.update(len(chunk))
    return 0


def _examples(arguments: argparse.Namespace, names: tuple[str, ...]) -> Iterator[Example]:
    if arguments.data and arguments.text:
        raise ValueError("give either a file of texts or --text, not both")
    if arguments.data:
        require_inputs(arguments, names)
        return iter_examples(arguments.data, inputs=input_columns(arguments), label=None, id=arguments.id_column)
    if not arguments.text:
        raise ValueError("nothing to label: give a .csv/.jsonl file or --text")
    if len(names) != 1:
        raise ValueError(f"this program reads {', '.join(names)}: give a file and --inputs, not --text")
    return iter([Example({names[0]: text}, id=str(number)) for number, text in enumerate(arguments.text, start=1)])


def written_rows(output: Path) -> tuple[int, str | None]:
    """How many rows a previous run already wrote, and the id of the last one.

    A row cut short by a kill or a full disk is not done: the file is first cut back to
    its last complete line.
    """
    if not output.exists() or output.stat().st_size == 0:
        return 0, None
    _drop_partial_line(output)
    count, last = 0, None
    with output.open(encoding="utf-8", newline="") as handle:
        rows = (
            (json.loads(line) for line in handle if line.strip())
            if output.suffix == ".jsonl"
            else csv.DictReader(handle)
        )
        for row in rows:
            count, last = count + 1, str(row["id"])
    return count, last


def _drop_partial_line(path: Path) -> None:
    with path.open("rb+") as handle:
        size = handle.seek(0, 2)
        if size == 0:
            return
        handle.seek(max(0, size - 65536))
        tail = handle.read()
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        handle.truncate(size - len(tail) + cut + 1 if cut >= 0 else 0)


class RowWriter:
    """CSV (or JSONL, by the file's suffix) to a file or standard output, flushed after every chunk."""

    def __init__(self, output: Path | None, fields: list[str], *, append: bool):
        self.fields = fields
        self.jsonl = output is not None and output.suffix == ".jsonl"
        self.owned = output is not None
        self.handle = output.open("a" if append else "w", encoding="utf-8", newline="") if output else sys.stdout
        self.csv = None if self.jsonl else csv.writer(self.handle)
        if self.csv is not None and not append:
            self.csv.writerow(fields)

    def write(self, rows: list[list]) -> None:
        if self.csv is None:
            self.handle.writelines(
                json.dumps(dict(zip(self.fields, row, strict=True)), ensure_ascii=False) + "\n" for row in rows
            )
        else:
            self.csv.writerows(rows)
        self.handle.flush()

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.owned:
            self.handle.close()
