"""The training examples most like a given one, by the words their inputs share.

ParetoSearch tests a child on held-out neighbours of the failures it was made from: a fix
for one kind of mistake shows on other examples of that kind, while a child that only
learnt the examples it saw (or a rule that helps nothing) does not. Word-set Jaccard
similarity is enough for that and needs no fitted model; ties keep the trainset's order.
"""

from __future__ import annotations

from collections.abc import Sequence

from promptgraph.data import Example
from promptgraph.retrieval import tokens  # one tokeniser for every lexical comparison

__all__ = ["nearest", "tokens", "words"]


def words(example: Example) -> frozenset[str]:
    return frozenset(word for value in example.inputs.values() for word in tokens(str(value)))


def nearest(query: Example, pool: Sequence[Example], k: int) -> list[Example]:
    """The `k` examples of `pool` whose input words overlap `query`'s most (Jaccard), the query itself excluded."""
    mine = words(query)
    scored = []
    for position, example in enumerate(pool):
        if example is query:
            continue
        theirs = words(example)
        union = len(mine | theirs)
        scored.append((-(len(mine & theirs) / union if union else 0.0), position, example))
    scored.sort(key=lambda item: item[:2])
    return [example for _, _, example in scored[:k]]
