"""Retrieval: the demos of a pool most like an input, by Okapi BM25 over their words.

KNNDemos (DSPy's KNNFewShot) keeps a pool of training examples in a module's Demos and
shows each input its `k` nearest. BM25 is written out here rather than taken from a
package: a pool is hundreds to thousands of short texts, scoring one query over an
inverted index costs a fraction of a millisecond beside an LLM call, and forty lines
keep the scores exact and the order stable on every platform with no dependency
(rank_bm25 has not been released since 2022; bm25s brings numpy and scipy). The index is
derived from the pool alone, so a saved program holds the pool and these settings and
rebuilds its index on load, never refitted from a trainset.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

_WORD = re.compile(r"\w+")
KINDS = ("bm25",)  # the retrievers a saved program may name


def tokens(text: str) -> list[str]:
    """The words of a text, lower-cased, in order."""
    return [word.lower() for word in _WORD.findall(text)]


@attrs.frozen
class Retriever:
    """How demos are retrieved: the `k` nearest by BM25 (`k1`: term-frequency saturation, `b`: length norm)."""

    k: int = 4
    kind: str = "bm25"
    k1: float = 1.5
    b: float = 0.75

    def __attrs_post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"k must be a whole number of at least 1, not {self.k!r}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown retriever {self.kind!r}; expected one of {', '.join(KINDS)}")
        if not (self.k1 >= 0 and 0 <= self.b <= 1):
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, not k1={self.k1!r}, b={self.b!r}")

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Retriever:
        """A saved retriever; ValueError naming the field that is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError(f"must be an object like {{'k': 4, 'kind': 'bm25'}}, not {data!r}")
        known = {field.name: field.default for field in attrs.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"has unknown field(s) {', '.join(map(repr, unknown))}; it has {', '.join(known)}")
        for name in ("k1", "b"):
            if name in data and (isinstance(data[name], bool) or not isinstance(data[name], (int, float))):
                raise ValueError(f"field {name!r} must be a number, not {data[name]!r}")
        return cls(**data)


@attrs.frozen
class BM25Index:
    """An inverted index of documents (each a list of words) that ranks them against a query."""

    postings: dict[str, list[tuple[int, int]]]  # word -> (document, count), documents in order
    lengths: tuple[int, ...]
    settings: Retriever

    @classmethod
    def of(cls, documents: Sequence[Sequence[str]], settings: Retriever) -> BM25Index:
        postings: dict[str, list[tuple[int, int]]] = {}
        for position, words in enumerate(documents):
            for word, count in Counter(words).items():
                postings.setdefault(word, []).append((position, count))
        return cls(postings=postings, lengths=tuple(len(words) for words in documents), settings=settings)

    def scores(self, query: Sequence[str]) -> dict[int, float]:
        """BM25 score of every document that shares a word with the query (the others score 0)."""
        count = len(self.lengths)
        average = sum(self.lengths) / count if count else 0.0
        k1, b = self.settings.k1, self.settings.b
        scores: dict[int, float] = {}
        for word in sorted(set(query)):  # each word once, in one order: the sums are exact for any word order
            found = self.postings.get(word, [])
            idf = math.log(1 + (count - len(found) + 0.5) / (len(found) + 0.5))
            for position, frequency in found:
                norm = k1 * (1 - b + b * self.lengths[position] / average) if average else k1
                scores[position] = scores.get(position, 0.0) + idf * frequency * (k1 + 1) / (frequency + norm)
        return scores

    def nearest(self, query: Sequence[str], k: int, skip: frozenset[int] = frozenset()) -> list[int]:
        """The `k` best documents, best first; ties (and documents sharing no word) in pool order."""
        scores = self.scores(query)
        return heapq.nsmallest(
            k,
            (position for position in range(len(self.lengths)) if position not in skip),
            key=lambda position: (-scores.get(position, 0.0), position),
        )
