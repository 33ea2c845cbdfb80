"""The candidates a run validated, as a tree and a Pareto frontier, rebuilt from the history alone.

Every distinct set of texts compile validated is a candidate, numbered in the order it was
first validated (the numbers ParetoSearch's pool gives them). A candidate's parent is the
program its step started from: the texts the step's kept try changed, put back.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from promptgraph.history import IterationRecord
from promptgraph.optimizers.pool import Pool, modules_changed


@attrs.frozen
class CandidateRow:
    number: int
    iteration: int  # the iteration that validated it
    parent: int | None  # None: the start, or a step that did not say what it started from
    changed: tuple[str, ...]  # modules whose texts differ from the parent's
    score: float  # mean over the validation examples
    leads: int  # validation examples it leads at the end of the run; 0: off the frontier
    depth: int  # generations from the start, for indenting the tree


@attrs.frozen
class Candidates:
    rows: tuple[CandidateRow, ...]
    frontiers: dict[int, tuple[tuple[int, int], ...]]  # iteration -> (candidate, examples led) after it


def candidates(history: Sequence[IterationRecord]) -> Candidates:
    pool = Pool()
    frontiers: dict[int, tuple[tuple[int, int], ...]] = {}
    texts: dict[int, dict[str, str]] = {}
    for record in history:
        texts[record.iteration] = record.values
        if pool.find(record.values) is None:
            parent = _parent(pool, record, texts)
            changed = modules_changed(pool.candidates[parent].values, record.values) if parent is not None else ()
            pool.add(record.values, record.val.scores, parent=parent, changed=changed, iteration=record.iteration)
        frontiers[record.iteration] = tuple(sorted(pool.frontier().items()))
    final = pool.frontier()
    depths: dict[int, int] = {}
    for candidate in pool.candidates:
        depths[candidate.number] = depths[candidate.parent] + 1 if candidate.parent is not None else 0
    rows = tuple(
        CandidateRow(
            number=c.number,
            iteration=c.iteration,
            parent=c.parent,
            changed=c.changed,
            score=c.mean,
            leads=final.get(c.number, 0),
            depth=depths[c.number],
        )
        for c in pool.candidates
    )
    return Candidates(rows=rows, frontiers=frontiers)


def _parent(pool: Pool, record: IterationRecord, texts: dict[int, dict[str, str]]) -> int | None:
    """The candidate the step started from, as compile recorded it; for a history saved before it was,
    the candidate whose texts are the record's with the kept try's changes undone."""
    start = pool.find(texts[record.started_from]) if record.started_from in texts else None
    if start is not None:
        return start.number
    kept = [tried for tried in record.tried if tried.candidate and tried.decision.startswith("kept")]
    for tried in kept:
        before = dict(record.values) | {name: old for name, (old, _) in tried.changes.items()}
        found = pool.find(before)
        if found is not None:
            return found.number
    return None
