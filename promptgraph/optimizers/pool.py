"""The candidate pool: every program a search validated, with its score on each validation example.

A candidate is a full set of the program's trainable texts, where it came from (its parent,
or the two it was merged from) and which modules changed on the way. Its per-example
scores make the Pareto frontier: the candidates that score best on at least one
validation example. A candidate with a lower average that is the only one to get some
example right stays on the frontier, so a search can build on what it alone knows;
"keep the best" would drop it (GEPA's ablation puts the difference at about 7 points).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import attrs

SELECTIONS = ("pareto", "best", "epsilon")


@attrs.frozen
class Candidate:
    number: int  # its place in the pool; 0 is the program compile was given
    values: dict[str, str] = attrs.field(repr=False)  # the trainable texts, by parameter name
    scores: tuple[float, ...] = attrs.field(repr=False)  # on each validation example, in the valset's order
    parent: int | None = None
    merged_from: tuple[int, ...] = ()  # the two candidates a merge took its modules from
    changed: tuple[str, ...] = ()  # the modules (nodes) whose texts differ from the parent's
    iteration: int = 0  # compile's iteration that validated it
    origin: str = "start"  # "start", "reflection" or "merge"

    @property
    def mean(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def length(self) -> int:
        """Characters of all its texts: among equals, the shorter prompt is preferred."""
        return sum(len(value) for value in self.values.values())

    def __repr__(self) -> str:
        parent = f", parent={self.parent}" if self.parent is not None else ""
        merged = f", merged_from={self.merged_from}" if self.merged_from else ""
        return f"Candidate({self.number}, mean={self.mean:.3f}{parent}{merged}, changed={list(self.changed)})"

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "values": self.values,
            "scores": list(self.scores),
            "parent": self.parent,
            "merged_from": list(self.merged_from),
            "changed": list(self.changed),
            "iteration": self.iteration,
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Candidate:
        return cls(
            number=data["number"],
            values=dict(data["values"]),
            scores=tuple(float(score) for score in data["scores"]),
            parent=data["parent"],
            merged_from=tuple(data["merged_from"]),
            changed=tuple(data["changed"]),
            iteration=data["iteration"],
            origin=data["origin"],
        )


@attrs.define
class Pool:
    candidates: list[Candidate] = attrs.field(factory=list)

    def __len__(self) -> int:
        return len(self.candidates)

    def __repr__(self) -> str:
        return f"Pool({len(self.candidates)} candidates, frontier={sorted(self.frontier())})"

    def find(self, values: Mapping[str, str]) -> Candidate | None:
        return next((candidate for candidate in self.candidates if candidate.values == dict(values)), None)

    def add(self, values: Mapping[str, str], scores: Sequence[float], **origin) -> Candidate:
        """A newly validated candidate; the same texts twice are one candidate."""
        known = self.find(values)
        if known is not None:
            return known
        if self.candidates and len(scores) != len(self.candidates[0].scores):
            raise ValueError("every candidate is scored on the same validation examples")
        candidate = Candidate(number=len(self.candidates), values=dict(values), scores=tuple(scores), **origin)
        self.candidates.append(candidate)
        return candidate

    def best(self) -> Candidate:
        """The highest mean; among equals the shorter, then the earlier."""
        return min(self.candidates, key=lambda c: (-c.mean, c.length, c.number))

    def frontier(self) -> dict[int, int]:
        """Candidate number -> how many validation examples it leads, for the candidates not dominated.

        A candidate leads an example when no other scores higher on it; examples every
        candidate gets wrong (all zero) lead nothing. A candidate is dominated when another
        scores at least as well on every example and better on one, or the same on every
        example with shorter texts (the earlier on a tie): it adds nothing the other lacks.
        """
        if not self.candidates:
            return {}
        alive = [c for c in self.candidates if not any(_dominates(other, c) for other in self.candidates)]
        leads = dict.fromkeys((c.number for c in alive), 0)
        for index in range(len(self.candidates[0].scores)):
            top = max(c.scores[index] for c in alive)
            if top <= 0:
                continue
            for c in alive:
                if c.scores[index] == top:
                    leads[c.number] += 1
        if not any(leads.values()):  # nothing is right anywhere yet: every survivor is as good a start
            return dict.fromkeys(leads, 1)
        return {number: count for number, count in leads.items() if count}

    def select(self, how: str, rng: random.Random, *, epsilon: float = 0.1) -> Candidate:
        """The next parent: from the frontier in proportion to examples led, the best, or epsilon-greedy."""
        if how == "pareto":
            frontier = self.frontier()
            numbers = sorted(frontier)
            return self.candidates[rng.choices(numbers, weights=[frontier[n] for n in numbers])[0]]
        if how == "best":
            return self.best()
        if how == "epsilon":
            return rng.choice(self.candidates) if rng.random() < epsilon else self.best()
        raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}, not {how!r}")

    def ancestors(self, number: int) -> list[int]:
        """The candidate and everything it descends from, through parents and merges, nearest first."""
        seen, queue = [], [number]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.append(current)
            candidate = self.candidates[current]
            queue += [*([candidate.parent] if candidate.parent is not None else []), *candidate.merged_from]
        return seen

    def merge_pair(self, tried: set[tuple[int, int]]) -> tuple[Candidate, Candidate, Candidate] | None:
        """Two frontier candidates with a common ancestor that changed different modules since, and that ancestor.

        Pairs already tried are skipped; the pair leading the most examples together comes first.
        """
        frontier = self.frontier()
        numbers = sorted(frontier, key=lambda n: (-frontier[n], n))
        for position, first in enumerate(numbers):
            for second in numbers[position + 1 :]:
                pair = (min(first, second), max(first, second))
                if pair in tried:
                    continue
                ancestor = self._common_ancestor(first, second)
                if ancestor is None or ancestor in pair:  # one descends from the other: nothing to combine
                    continue
                a, b, base = self.candidates[pair[0]], self.candidates[pair[1]], self.candidates[ancestor]
                in_a, in_b = set(modules_changed(base.values, a.values)), set(modules_changed(base.values, b.values))
                if in_a and in_b and not in_a & in_b:
                    return a, b, base
        return None

    def _common_ancestor(self, first: int, second: int) -> int | None:
        theirs = set(self.ancestors(second))
        return next((number for number in self.ancestors(first) if number in theirs), None)

    def to_dict(self) -> dict:
        return {"candidates": [candidate.to_dict() for candidate in self.candidates]}

    @classmethod
    def from_dict(cls, data: dict) -> Pool:
        return cls(candidates=[Candidate.from_dict(item) for item in data["candidates"]])


def _dominates(other: Candidate, candidate: Candidate) -> bool:
    if other.number == candidate.number:
        return False
    pairs = list(zip(other.scores, candidate.scores, strict=True))
    if any(theirs < mine for theirs, mine in pairs):
        return False
    if any(theirs > mine for theirs, mine in pairs):
        return True
    return (other.length, other.number) < (candidate.length, candidate.number)  # the same scores: shorter wins


def modules_changed(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[str, ...]:
    """The nodes (the part of a parameter name before the first dot) whose texts differ, in name order."""
    return tuple(sorted({name.split(".", 1)[0] for name in after if before.get(name) != after[name]}))


def merged_values(base: Candidate, first: Candidate, second: Candidate) -> dict[str, str]:
    """Each module's texts from the candidate that changed it since `base`; untouched modules as in base."""
    from_second = set(modules_changed(base.values, second.values))
    return {
        name: second.values[name] if name.split(".", 1)[0] in from_second else first.values[name]
        for name in base.values
    }
