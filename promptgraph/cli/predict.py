"""`promptgraph predict`: label texts with a saved program, at any scale.

Input is read as a stream and labelled in chunks; each chunk is written (and flushed) as
soon as it is done, so memory does not grow with the file and an interrupted run loses at
most one chunk. Rerun the same command with the same `--output` and it carries on after
the rows already written (they are counted, not held in memory) and answers again the rows
written as failed; only a file this command wrote is resumed (see predict_output.py), and
one run at a time holds it (a lock file beside it). Every distinct error is printed once,
and past `--max-failure-rate` the run stops and exits 1.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
from tqdm import tqdm

from promptgraph.cli.arguments import output_file, text
from promptgraph.cli.backend import Backend, add_backend_options, batching, cache_directory, open_backend
from promptgraph.cli.failures import Failures, add_failure_option
from promptgraph.cli.options import (
    add_data_options,
    add_trust_option,
    input_columns,
    load_program,
    require_inputs,
    with_model_settings,
)
from promptgraph.cli.predict_output import Output, RowWriter, fingerprint
from promptgraph.data import Example, iter_examples
from promptgraph.executors import executor_for
from promptgraph.lm import Batching
from promptgraph.lockfile import Lock, LockHeld
from promptgraph.program import Program
from promptgraph.trace import FAILED, Trace

BATCH_CHUNK_ROWS = 10_000  # rows per Message Batch: big enough to batch, small enough to hold in memory


def add_command(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser(
        "predict",
        help="label texts with a saved program",
        description="Label texts with a saved program: from --text, or a whole file streamed to --output (resumed "
        "after an interruption), or CSV on standard output.",
        epilog="""examples:
  promptgraph predict runs/first/program.json --text "Why is the sky blue?"
  promptgraph predict runs/first/program.json questions.csv --text-column question_text --output labels.csv""",
    )
    predict.add_argument("program", help="a saved program (.json), or file.py:function")
    predict.add_argument("data", nargs="?", help="texts to label, .csv or .jsonl (or use --text)")
    add_trust_option(predict)
    predict.add_argument("--text", type=text, action="append", default=[], help="a text to label; repeat for more")
    predict.add_argument(
        "--output", type=output_file, help="write .csv or .jsonl here, resuming if it exists (default: CSV on stdout)"
    )
    add_failure_option(predict, stops="stop and exit 1")
    add_data_options(predict, labelled=False)
    add_backend_options(predict, optimizer=False)
    predict.set_defaults(run=run_predict)


def run_predict(arguments: argparse.Namespace) -> int:
    program = with_model_settings(load_program(arguments.program, trust_code=arguments.trust_code), arguments)
    # Every row is read once before anything is written or sent (in constant memory): a bad
    # row at the end of a big file stops the run now, not after paying for the rows before it.
    collections.deque(_examples(arguments, program.inputs), maxlen=0)
    examples = _examples(arguments, program.inputs)
    columns = ("id", program.outputs[0], "status")
    if not arguments.output:
        with open_backend(arguments) as backend:
            labelling = Labelling(arguments, program, backend, batch=batching(arguments, state=None))
            return labelling.finish(labelling.label(examples, RowWriter.stdout(sys.stdout, columns)), output=None)
    output = Output(Path(arguments.output), columns, program=fingerprint(program))
    output.check_path(arguments.data)
    cache_directory(arguments)  # refuses a cache directory that is a file before a half-written row is cut
    try:
        lock = Lock.acquire(output.lock, what=f"--output {output.path}")
    except LockHeld as error:
        raise ValueError(str(error)) from None
    except OSError as error:
        raise ValueError(f"--output {output.path}: cannot write beside it ({error.strerror})") from None
    with lock:
        found = output.found()
        if found and found.rows:
            _check_same_input(output, _examples(arguments, program.inputs))
            output.cut_to(found.end)
            print(f"promptgraph: {found.rows} rows already in {output.path}; labelling the rest", file=sys.stderr)
        with open_backend(arguments) as backend:
            # With --batch, each chunk is one batch (or one per step of a pipeline); its ids are
            # kept beside the output, so a rerun polls the same batch instead of paying again.
            batch = batching(arguments, state=output.path.with_name(output.path.name + ".batches.json"))
            labelling = Labelling(arguments, program, backend, batch=batch, done=found.rows if found else 0)
            if not found or not found.rows:
                writer = output.start()
            elif found.failed:
                writer = output.rewrite()
            else:
                for _ in itertools.islice(examples, found.rows):
                    pass
                writer = output.append()
            with writer:
                if found and found.failed:
                    print(f"promptgraph: answering again the {found.failed} rows written as failed", file=sys.stderr)
                    labelling.retry_failed(output.rows(), examples, writer)
                    output.replace_with_copy(writer)
                complete = labelling.label(examples, writer)
        return labelling.finish(complete, output=output.path)


@attrs.define
class Labelling:
    """Chunks of examples through the program, their rows written, their failures counted."""

    arguments: argparse.Namespace
    program: Program
    backend: Backend
    batch: Batching | None
    done: int = 0  # rows already in the output when the run started
    failures: Failures = attrs.field(factory=Failures)

    @property
    def chunk_size(self) -> int:
        return BATCH_CHUNK_ROWS if self.batch else max(64, 8 * self.backend.forward.max_concurrency)

    @property
    def stopping(self) -> bool:
        return self.failures.too_many(self.arguments.max_failure_rate)

    def run(self, examples: list[Example]) -> list[Trace]:
        if not examples:
            return []
        traces = self.program.run(
            examples, lm=self.backend.forward, tag="predict", progress=False, executor=executor_for(self.batch)
        )
        self.failures.add(traces)
        return traces

    def label(self, examples: Iterator[Example], writer: RowWriter) -> bool:
        """Every example's row, unless too many calls fail; True if all were labelled."""
        with tqdm(desc="predict", unit="row", disable=None, initial=self.done) as bar:
            while chunk := list(itertools.islice(examples, self.chunk_size)):
                if self.stopping:
                    return False
                writer.write([_row(trace) for trace in self.run(chunk)])
                bar.update(len(chunk))
        return True

    def retry_failed(self, rows: Iterator[dict], examples: Iterator[Example], writer: RowWriter) -> None:
        """Copy the earlier rows to `writer`, answering the failed ones again (while few enough fail)."""
        while old := list(itertools.islice(rows, self.chunk_size)):
            chunk = list(itertools.islice(examples, len(old)))
            again = [] if self.stopping else [e for e, row in zip(chunk, old, strict=True) if row["status"] == FAILED]
            answers = iter(self.run(again))
            writer.write(
                [_row(next(answers)) if row["status"] == FAILED and again else list(row.values()) for row in old]
            )

    def finish(self, complete: bool, output: Path | None) -> int:
        rate = self.arguments.max_failure_rate
        if not self.failures.too_many(rate):
            return 0
        print(self.failures.verdict(rate, "rows"), file=sys.stderr)
        if output is not None:
            left = "" if complete else ", and the rows not yet labelled"
            print(f"promptgraph: run the same command again to retry the failed rows{left}", file=sys.stderr)
        return 1


def _row(trace: Trace) -> list:
    return [trace.example.id, "" if trace.prediction is None else trace.prediction, trace.status]


def _check_same_input(output: Output, examples: Iterator[Example]) -> None:
    """The rows already written are for this input, id by id; checked before anything is cut or sent."""
    for number, row in enumerate(output.rows(), start=1):
        example = next(examples, None)
        if example is None or str(example.id) != str(row["id"]):
            found = "ends before it" if example is None else f"has id {example.id!r} there"
            raise ValueError(
                f"--output {output.path} does not match the start of the input (its row {number} is id "
                f"{row['id']!r}; the input {found}); move it away to start over"
            )


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
