"""A report is never written over another run's: a page its writer did not write belongs to someone else,
and the page written before a resume is kept beside the resumed run's.

The Python side of what `promptgraph compile` refuses for an --out that holds report/index.html, and of
compile's RunExists for a run directory's checkpoint: replaced only when asked (overwrite=True).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from promptgraph.checkpoint import RunExists
from promptgraph.history import IterationRecord

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


def keep_the_page_before_a_resume(directory: Path, history: Sequence[IterationRecord]) -> str | None:
    """The name of the page written before this run was resumed, kept beside the new one; None if not resumed.

    A resumed run's earlier iterations come from its checkpoint, which keeps no replies, so the new
    page cannot show their samples and mistakes. The page written before the resume did: it is
    moved aside once (the first write after the resume), never written over, and linked.
    """
    restored = [record for record in history if record.restored]
    if not restored:
        return None
    name = f"index-before-resume-at-iteration-{restored[-1].iteration + 1}.html"
    page, kept = directory / PAGE, directory / name
    if not kept.exists():
        if not page.exists():
            return None
        page.replace(kept)
    return name
