"""A report is never written over another run's: a page its writer did not write belongs to someone else.

The Python side of what `promptgraph compile` refuses for an --out that holds report/index.html, and of
compile's RunExists for a run directory's checkpoint: replaced only when asked (overwrite=True).
"""

from __future__ import annotations

from pathlib import Path

from promptgraph.checkpoint import RunExists

PAGE = "index.html"


class ReportExists(RunExists):
    """A run would write its report over another run's page: overwrite it, or write the report elsewhere."""


def refuse_replacing(directory: Path) -> None:
    """Raise ReportExists when `directory` holds a report page."""
    page = directory / PAGE
    if page.exists():
        raise ReportExists(
            f"{page} holds the report of another run: pass overwrite=True to replace it, or write this run's "
            "report to another directory (another run_dir)"
        )
