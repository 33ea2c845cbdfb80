"""Calls that failed for good: said on stderr as they first appear, and a run that fails too often ends non-zero.

A server that answers 401 to everything must not end in "failed 40" and exit code 0: a
script running the command would take the empty labels for answers. Each distinct error
is printed once, when it first appears, up to a few of them (a dead server does not
fill the terminal), and past `--max-failure-rate` the command ends with exit code 1.
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Iterable

import attrs

from promptgraph.cli.arguments import fraction
from promptgraph.trace import FAILED, Trace

DEFAULT_MAX_FAILURE_RATE = 0.5
SHOWN_KINDS = 5  # distinct error messages printed; the rest are only counted


def add_failure_option(parser: argparse.ArgumentParser, *, stops: str) -> None:
    parser.add_argument(
        "--max-failure-rate",
        type=fraction,
        default=DEFAULT_MAX_FAILURE_RATE,
        help=f"{stops} when more than this share of calls fails for good (0 to 1, default {DEFAULT_MAX_FAILURE_RATE})",
    )


@attrs.define
class Failures:
    """The failed calls of one command so far, by message."""

    total: int = 0
    failed: int = 0
    shown: collections.Counter = attrs.field(factory=collections.Counter)  # at most SHOWN_KINDS messages

    def add(self, traces: Iterable[Trace]) -> None:
        """Count the traces, printing each error not seen before (up to SHOWN_KINDS of them)."""
        for trace in traces:
            self.total += 1
            if trace.status != FAILED:
                continue
            self.failed += 1
            error = trace.final.outcome.error or "failed with no message"
            if error in self.shown or len(self.shown) < SHOWN_KINDS:
                if error not in self.shown:
                    print(f"promptgraph: a call failed: {error}", file=sys.stderr)
                self.shown[error] += 1

    def too_many(self, max_rate: float) -> bool:
        return self.total > 0 and self.failed / self.total > max_rate

    def verdict(self, max_rate: float, what: str) -> str:
        """The one line ending a run that failed too often."""
        more = self.failed - sum(self.shown.values())
        others = f" ({more} of them with errors not shown)" if more > 0 else ""
        return (
            f"promptgraph: error: {self.failed} of {self.total} {what} failed (more than {max_rate:.0%}, "
            f"see --max-failure-rate){others}; the errors above say what to fix"
        )
