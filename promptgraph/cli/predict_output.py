"""The file `predict --output` writes, and how a later run recognises it as its own.

Resuming appends to the file and may cut a row a killed run left half-written, so it must
never happen to a file we did not write: a user's data, the input itself, or the labels
of another program. We chose a marker file beside the output, `<output>.promptgraph.json`,
naming the columns and the program's fingerprint, over a marker inside the output (a
comment line or a metadata row): the output stays a plain CSV or JSONL with one row per
input, which any reader loads as it is. A non-empty output without a matching marker is
refused, and so is one that is the input file.

A row written `failed` is retried when the command is run again: the file is copied to
`<output>.retrying` with the failed rows answered anew, and that copy replaces the output
in one rename, so the output keeps one row per input, in input order, and a kill during
the copy leaves the output as it was.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import attrs

from promptgraph.cli.arguments import same_file
from promptgraph.lm.files import atomic_write
from promptgraph.program import Program
from promptgraph.saving import program_to_dict
from promptgraph.trace import FAILED, OK, UNPARSED

WRITTEN_BY = "promptgraph predict"
STATUSES = (OK, UNPARSED, FAILED)


def fingerprint(program: Program) -> str:
    """The same for the same program however it was loaded; metrics and notes left out."""
    text = json.dumps(program_to_dict(program, meta=False), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@attrs.frozen
class Found:
    """What an earlier run left in the output."""

    rows: int  # complete rows
    failed: int  # of which written `failed`
    end: int  # the byte after the last complete row


@attrs.frozen
class Output:
    path: Path
    columns: tuple[str, ...]  # id, the program's output, status
    program: str  # its fingerprint

    @property
    def jsonl(self) -> bool:
        return self.path.suffix == ".jsonl"

    @property
    def marker(self) -> Path:
        return self.path.with_name(self.path.name + ".promptgraph.json")

    @property
    def lock(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def retrying(self) -> Path:
        return self.path.with_name(self.path.name + ".retrying")

    def check_path(self, data: str | None) -> None:
        """Refuse an output that is the input, before anything is written (the parser checked its folder)."""
        if data and same_file(self.path, data):
            raise ValueError(f"--output {self.path} is the input file; write the labels to another file")

    def found(self) -> Found | None:
        """The rows of an earlier run, or None if there is nothing to keep; refuses a file that is not ours.

        Reads the whole file (a row at a time), so a file ours only in name is refused
        before anything is cut or written.
        """
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        self._check_marker()
        rows = failed = 0
        end = 0
        for row, row_end in self._read():
            rows, end = rows + 1, row_end
            failed += row["status"] == FAILED
        return Found(rows=rows, failed=failed, end=end)

    def _check_marker(self) -> None:
        refuse = f"give another --output, or move {self.path.name} away to start over"
        try:
            marker = json.loads(self.marker.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(
                f"--output {self.path} already exists and was not written by {WRITTEN_BY} (it has no "
                f"{self.marker.name} beside it); {refuse}"
            ) from None
        except (OSError, ValueError) as error:
            raise ValueError(f"{self.marker} cannot be read ({error}); {refuse}") from None
        if not isinstance(marker, dict) or marker.get("written_by") != WRITTEN_BY:
            raise ValueError(f"{self.marker} is not a marker of {WRITTEN_BY}; {refuse}")
        if marker.get("columns") != list(self.columns):
            raise ValueError(
                f"--output {self.path} has the columns {marker.get('columns')}, this program writes "
                f"{list(self.columns)}; {refuse}"
            )
        if marker.get("program") != self.program:
            raise ValueError(
                f"--output {self.path} holds the answers of another program (fingerprint {marker.get('program')}, "
                f"this one is {self.program}); {refuse}"
            )

    def rows(self) -> Iterator[dict]:
        """The complete rows, as {column: value}; run only on a file `found` accepted."""
        for row, _ in self._read():
            yield row

    def _read(self) -> Iterator[tuple[dict, int]]:
        """Each complete row and the byte after it; refuses anything we would not have written.

        A last row without its line end (a kill or a full disk mid-write) is not complete and
        is not yielded.
        """
        number = 0
        for values, end, complete in _records(self.path, jsonl=self.jsonl):
            if not complete:
                return
            if number == 0 and not self.jsonl:
                if values != list(self.columns):
                    raise ValueError(self._not_ours(f"its header is {values}, not {list(self.columns)}"))
                number += 1
                continue
            number += 1
            row = values if self.jsonl else dict(zip(self.columns, values, strict=False))  # the count is checked below
            if (
                not isinstance(row, dict)
                or list(row) != list(self.columns)
                or (not self.jsonl and len(values) != len(self.columns))
                or row["status"] not in STATUSES
            ):
                raise ValueError(self._not_ours(f"line {number} is not a row it would write"))
            yield row, end

    def _not_ours(self, why: str) -> str:
        return f"--output {self.path} was not written by {WRITTEN_BY}: {why}; give another --output or move it away"

    def cut_to(self, end: int) -> None:
        """Drop a half-written last row (only bytes after the last complete row of our own file)."""
        if self.path.stat().st_size > end:
            with self.path.open("rb+") as handle:
                handle.truncate(end)

    def start(self) -> RowWriter:
        """A new output: the marker first, so a file with our rows always has one."""
        atomic_write(
            self.marker,
            json.dumps({"written_by": WRITTEN_BY, "columns": list(self.columns), "program": self.program}, indent=1),
        )
        return RowWriter.open(self.path, self.columns, jsonl=self.jsonl, append=False)

    def append(self) -> RowWriter:
        return RowWriter.open(self.path, self.columns, jsonl=self.jsonl, append=True)

    def rewrite(self) -> RowWriter:
        """A copy to fill and then `replace` the output with."""
        return RowWriter.open(self.retrying, self.columns, jsonl=self.jsonl, append=False)

    def replace_with_copy(self, writer: RowWriter) -> None:
        """The copy becomes the output in one rename; the writer goes on appending to it."""
        writer.handle.flush()
        os.fsync(writer.handle.fileno())
        os.replace(self.retrying, self.path)


@attrs.define
class RowWriter:
    """CSV or JSONL rows to a file, or CSV to standard output; flushed after every chunk."""

    handle: IO[str]
    columns: tuple[str, ...]
    jsonl: bool
    owned: bool

    @classmethod
    def open(cls, path: Path, columns: tuple[str, ...], *, jsonl: bool, append: bool) -> RowWriter:
        handle = path.open("a" if append else "w", encoding="utf-8", newline="")
        writer = cls(handle, columns, jsonl=jsonl, owned=True)
        if not append and not writer.jsonl:
            csv.writer(handle).writerow(columns)
        return writer

    @classmethod
    def stdout(cls, handle: IO[str], columns: tuple[str, ...]) -> RowWriter:
        csv.writer(handle).writerow(columns)
        return cls(handle, columns, jsonl=False, owned=False)

    def write(self, rows: list[list]) -> None:
        if self.jsonl:
            self.handle.writelines(
                json.dumps(dict(zip(self.columns, row, strict=True)), ensure_ascii=False) + "\n" for row in rows
            )
        else:
            csv.writer(self.handle).writerows(rows)
        self.handle.flush()

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.owned:
            self.handle.close()


def _records(path: Path, *, jsonl: bool) -> Iterator[tuple[object, int, bool]]:
    """(values, byte after them, complete) for each record; a record is complete when it ends in a line end."""
    with path.open("rb") as handle:
        position = [0]
        last_line_ended = [True]

        def lines() -> Iterator[str]:
            for raw in handle:
                position[0] += len(raw)
                last_line_ended[0] = raw.endswith(b"\n")
                if not last_line_ended[0]:
                    return  # a half-written last line: never read as data
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise ValueError(f"--output {path} is not UTF-8 text; give another --output") from None

        if jsonl:
            for line in lines():
                try:
                    yield json.loads(line), position[0], True
                except ValueError:
                    raise ValueError(
                        f"--output {path} holds a line that is not JSON; give another --output or move it away"
                    ) from None
            return
        reader = csv.reader(lines(), strict=True)
        try:
            for values in reader:
                yield values, position[0], True
        except csv.Error:
            if last_line_ended[0] and handle.read(1):
                raise ValueError(
                    f"--output {path} is not a CSV file promptgraph wrote; give another --output or move it away"
                ) from None
            # A quoted field left open at the end: the last row was cut mid-write.
        yield None, position[0], False
