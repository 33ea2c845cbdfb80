"""Choosing the best few of many candidates without scoring every one on every example.

Successive rejects (Audibert and Bubeck, 2010), as ProTeGi uses it: in each round every
surviving candidate is scored on a fresh batch of examples (the same batch for all, so the
comparison is paired), and the one with the lowest mean so far is dropped. Candidates
that are clearly worse leave after a round or two; evaluation calls go to the close ones.
`exhaustive` scores every candidate on every round's examples, for comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from promptgraph.data import Example
from promptgraph.optimizers.search import Scorer


@attrs.frozen
class Selection:
    kept: tuple[int, ...]  # indices of the chosen candidates, best first
    means: dict[int, float]  # each candidate's mean over the examples it was scored on
    seen: dict[int, int]  # how many examples each was scored on
    dropped_in_round: dict[int, int]  # candidate -> the round it was dropped in
    stopped: str | None = None  # why selection ended early (the budget), if it did


def successive_rejects(
    candidates: Sequence[dict[str, str]],
    keep: int,
    scorer: Scorer,
    batches: Callable[[int], Sequence[Example]],
    *,
    exhaustive: bool = False,
) -> Selection:
    """The `keep` best candidates; `batches(round)` gives that round's examples."""
    alive = list(range(len(candidates)))
    seen: dict[int, list[Example]] = {index: [] for index in alive}
    dropped: dict[int, int] = {}
    rounds = max(1, len(candidates) - keep)  # at least one round, to rank what is kept
    stopped = None
    for round_number in range(rounds):
        batch = list(batches(round_number))
        scored = alive if not exhaustive else list(range(len(candidates)))
        _, unscored = scorer.scores_together([candidates[index] for index in scored], batch)  # one batch a round
        if unscored:
            # A round cut short is not counted, so every comparison stays on the same examples.
            stopped = f"the budget ran out in round {round_number + 1} ({next(iter(unscored.values()))})"
            break
        for index in scored:
            seen[index] += batch
        if len(alive) > keep:
            means = {index: scorer.mean(candidates[index], seen[index]) for index in alive}
            worst = min(alive, key=lambda index: (means[index], -index))  # ties: drop the later candidate
            alive.remove(worst)
            dropped[worst] = round_number + 1
    means = {index: scorer.mean(candidates[index], seen[index]) if seen[index] else 0.0 for index in seen}
    # Never keep what was never scored, unless nothing was: then the first (the current program) stands.
    scored_alive = [index for index in alive if seen[index]] or alive[:1]
    ranked = sorted(scored_alive, key=lambda index: (-means[index], index))
    return Selection(
        kept=tuple(ranked[:keep]),
        means=means,
        seen={index: len(examples) for index, examples in seen.items()},
        dropped_in_round=dropped,
        stopped=stopped,
    )
