"""What the search optimizers share: candidates, a paired test, a budgeted scorer, a record of every try.

`choose` is the one way a search decides: score the candidates on the same examples,
test the best against the program as it stands, commit the winner, record each try.

A candidate is a full set of the program's trainable texts. Candidates are compared on
the same examples, example by example: the sign test below (McNemar's exact test when
scores are 0 or 1) says whether one wins more examples than chance would give, which is
far less noisy than comparing two accuracies measured on different samples.

The Scorer runs a candidate on examples with the forward model and remembers each
(candidate, example) score, so a bandit that looks at a candidate again pays only for
examples it has not seen. It counts the forward calls it spends and stops at `max_calls`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import attrs

from promptgraph.data import Example
from promptgraph.optimizers.base import StepContext, Tried, Update
from promptgraph.parameter import Demo, Demos, Parameter
from promptgraph.program import Program


@attrs.frozen
class Paired:
    """How two candidates did on the same examples."""

    wins: int  # examples the new one got better
    losses: int  # examples it got worse
    p_better: float  # one-sided exact p-value that it is better
    p_worse: float  # ... and that it is worse
    old: float = 0.0  # the mean score of the one it is compared with
    new: float = 0.0  # ... and its own

    def better(self, alpha: float) -> bool:
        return self.p_better <= alpha

    def worse(self, alpha: float) -> bool:
        return self.p_worse <= alpha


def paired(old: Sequence[float], new: Sequence[float]) -> Paired:
    """The sign test on per-example scores: only examples where the two differ count.

    Written out rather than taken from scipy: it is one binomial tail, and scipy would be
    the largest dependency we have.
    """
    if len(old) != len(new):
        raise ValueError("paired comparison needs scores on the same examples")
    wins = sum(n > o for o, n in zip(old, new, strict=True))
    losses = sum(n < o for o, n in zip(old, new, strict=True))
    return Paired(
        wins=wins,
        losses=losses,
        p_better=_tail(wins, wins + losses),
        p_worse=_tail(losses, wins + losses),
        old=mean(old),
        new=mean(new),
    )


def mean(scores: Sequence[float]) -> float:
    return sum(scores) / len(scores) if scores else 0.0


def _tail(successes: int, trials: int) -> float:
    """P(X >= successes) for X ~ Binomial(trials, 1/2)."""
    if trials == 0:
        return 1.0
    return sum(math.comb(trials, k) for k in range(successes, trials + 1)) / 2**trials


class BudgetSpent(Exception):
    """The optimizer's call budget for this step is used up."""


@attrs.define
class Scorer:
    program: Program  # scored in place: each candidate's values are put in, then the original ones back
    context: StepContext
    max_calls: int | None = None  # forward calls this scorer may spend; None: no limit
    calls: int = 0
    _scores: dict[tuple[tuple[tuple[str, str], ...], int], float] = attrs.field(factory=dict, init=False)

    def scores(self, values: Mapping[str, str], examples: Sequence[Example]) -> list[float]:
        """Per-example scores of the program with these values; raises BudgetSpent rather than overspend."""
        scored, unscored = self.scores_together([values], examples)
        if unscored:
            raise BudgetSpent(unscored[0])
        return scored[0]

    def scores_together(
        self, candidates: Sequence[Mapping[str, str]], examples: Sequence[Example]
    ) -> tuple[dict[int, list[float]], dict[int, str]]:
        """Each candidate's per-example scores, the calls of all of them sent together (one Message
        Batch per generation, or one pool of threads), and why any the budget could not pay for was
        left out; both keyed by the candidate's position."""
        planned: dict[tuple[tuple[str, str], ...], tuple[Mapping[str, str], list[Example]]] = {}
        unscored: dict[int, str] = {}
        cost = 0
        for number, values in enumerate(candidates):
            key = tuple(sorted(values.items()))
            if key in planned:
                continue
            missing = [example for example in examples if (key, id(example)) not in self._scores]
            more = len(missing) * modules_in(self.program)
            if self.max_calls is not None and self.calls + cost + more > self.max_calls:
                unscored[number] = f"{self.calls + cost} of {self.max_calls} calls spent"
                continue
            planned[key], cost = (values, missing), cost + more
        runs = [(key, values, missing) for key, (values, missing) in planned.items() if missing]
        if len(runs) == 1:  # the common case scores the program in place, without a copy
            key, values, missing = runs[0]
            with applied(self.program, values):
                evaluations = [self.context.score(self.program, missing)]
        else:
            evaluations = self.context.score_together([(with_values(self.program, v), m) for _, v, m in runs])
        self.calls += cost
        for (key, _, missing), evaluation in zip(runs, evaluations, strict=True):
            for example, score in zip(missing, evaluation.scores, strict=True):
                self._scores[(key, id(example))] = score
        scored = {
            number: [self._scores[(tuple(sorted(values.items())), id(example))] for example in examples]
            for number, values in enumerate(candidates)
            if number not in unscored
        }
        return scored, unscored

    def mean(self, values: Mapping[str, str], examples: Sequence[Example]) -> float:
        return mean(self.scores(values, examples))

    def known(self, values: Mapping[str, str], examples: Sequence[Example]) -> dict[str, float]:
        """The scores of these values already paid for, by example id: what a checkpoint keeps."""
        key = tuple(sorted(values.items()))
        return {str(e.id): self._scores[(key, id(e))] for e in examples if (key, id(e)) in self._scores}

    def remember(self, values: Mapping[str, str], examples: Sequence[Example], scores: Mapping[str, float]) -> None:
        """Scores of these values read back from a checkpoint, by example id: they are not paid for again."""
        key = tuple(sorted(values.items()))
        for example in examples:
            if str(example.id) in scores:
                self._scores[(key, id(example))] = scores[str(example.id)]

    def commit(self, values: Mapping[str, str]) -> None:
        commit(self.program, values)

    def changes(self, start: Mapping[str, str], values: Mapping[str, str]) -> dict[str, tuple[str, str]]:
        return changes_between(start, values)


def modules_in(program: Program) -> int:
    """The modules one example runs through, nested programs' included: an upper bound on its calls."""
    return sum(modules_in(module) if isinstance(module, Program) else 1 for module in program.nodes.values()) or 1


@contextlib.contextmanager
def applied(program: Program, values: Mapping[str, str]) -> Iterator[None]:
    """The program with these texts (and demo sets, as `demos_text` writes them) for the block; no history."""
    slots = _slots(program)
    unknown = sorted(set(values) - set(slots))
    if unknown:
        raise KeyError(f"the program has no parameter {', '.join(unknown)}")
    before = {name: _read(slots[name]) for name in values}
    for name, value in values.items():
        _write(slots[name], value)
    try:
        yield
    finally:
        for name, value in before.items():
            _write(slots[name], value)


def with_values(program: Program, values: Mapping[str, str]) -> Program:
    """A copy of the program with these texts (and demo sets), to run beside other candidates."""
    copied = copy.deepcopy(program)
    slots = _slots(copied)
    for name, value in values.items():
        _write(slots[name], value)
    return copied


def demos_text(pairs: Sequence[Demo]) -> str:
    """A demo set as one string, so a candidate can hold demos beside texts (and compare and save them)."""
    return json.dumps([{"inputs": demo.inputs, "output": demo.output} for demo in pairs], sort_keys=True)


def demos_from_text(text: str) -> list[Demo]:
    return [Demo(inputs=item["inputs"], output=item["output"]) for item in json.loads(text)]


def _slots(program: Program) -> dict[str, Parameter | Demos]:
    return dict(program.named_parameters()) | dict(program.named_demos())


def _read(slot: Parameter | Demos) -> str:
    return demos_text(slot.pairs) if isinstance(slot, Demos) else slot.value


def _write(slot: Parameter | Demos, value: str) -> None:
    if isinstance(slot, Demos):
        slot.pairs = demos_from_text(value)
    else:
        slot.value = value


def trainable_values(program: Program) -> dict[str, str]:
    return {name: p.value for name, p in program.named_parameters() if p.trainable}


def changes_between(start: Mapping[str, str], values: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    return {name: (start[name], value) for name, value in values.items() if start.get(name) != value}


def commit(program: Program, values: Mapping[str, str]) -> None:
    """Make these the program's texts (and demo sets), each change kept in its slot's history."""
    slots = _slots(program)
    for name, value in values.items():
        slot = slots[name]
        if _read(slot) == value:
            continue
        if isinstance(slot, Demos):
            slot.update(demos_from_text(value))
        else:
            slot.update(value)


def too_long(name: str, value: str, before: str, max_chars: int) -> str | None:
    """A runaway reply, not a prompt: longer than `max_chars` and than twice the text it replaces."""
    limit = max(max_chars, 2 * len(before))
    return f"{name} is {len(value):,} characters; keep it under {limit:,}" if len(value) > limit else None


def check_values(program: Program, values: object, *, max_chars: int = 10_000) -> list[str]:
    """Problems with proposed texts for the program's trainable parameters; empty when they can be used."""
    if not isinstance(values, dict) or not all(isinstance(value, str) for value in values.values()):
        return ["the values must be an object mapping parameter names to strings"]
    trainable = trainable_values(program)
    unknown = sorted(set(values) - set(trainable))
    if unknown:
        return [f"no trainable parameter {', '.join(unknown)}; the parameters are {', '.join(trainable)}"]
    problems = [
        problem for name, value in values.items() if (problem := too_long(name, value, trainable[name], max_chars))
    ]
    problems += [
        f"{name} would be emptied; rewrite it instead"
        for name, value in values.items()
        if not value.strip() and trainable[name].strip()
    ]
    for node, module in program.nodes.items():
        mine = {name.split(".", 1)[1]: value for name, value in values.items() if name.split(".", 1)[0] == node}
        if mine:
            problems += [f"{node}: {problem}" for problem in module.check(mine)]
    return problems


def parameter_views(program: Program) -> list[dict]:
    """Name, role, constraints and value of each trainable text, for an optimizer prompt."""
    return [
        {"name": name, "role": p.role, "constraints": p.constraints, "value": p.value}
        for name, p in program.named_parameters()
        if p.trainable
    ]


def updates_for(
    program: Program, changes: dict[str, tuple[str, str]], reason: str, replies: tuple[str, ...] = ()
) -> tuple[Update, ...]:
    """One "changed" Update per node with changes, or a single "unchanged" one."""
    updates = tuple(
        Update(
            node=node,
            status="changed",
            changes={name: change for name, change in changes.items() if name.split(".", 1)[0] == node},
            reasoning=reason,
            replies=replies,
        )
        for node in program.order()
        if any(name.split(".", 1)[0] == node for name in changes)
    )
    unchanged = Update(node=program.order()[0], status="unchanged", changes={}, reasoning=reason, replies=replies)
    return updates or (unchanged,)


class Candidates(Protocol):
    """How `choose` scores, commits and describes one kind of candidate (texts: Scorer; demo sets: demos.py)."""

    def scores(self, candidate: Any, examples: Sequence[Example]) -> list[float]: ...

    def scores_together(
        self, candidates: Sequence[Any], examples: Sequence[Example]
    ) -> tuple[dict[int, list[float]], dict[int, str]]: ...

    def commit(self, candidate: Any) -> None: ...

    def changes(self, start: Any, candidate: Any) -> dict[str, tuple[str, str]]: ...


Accept = Callable[[Paired], bool]  # does the challenger replace the program as it stands?


def beats(alpha: float) -> Accept:
    """It scores higher, and the sign test says it is better with p <= alpha."""
    return lambda test: test.new > test.old and test.better(alpha)


def not_worse(alpha: float) -> Accept:
    """Unless the sign test says it is worse with p <= alpha (a gate on a step already taken)."""
    return lambda test: not test.worse(alpha)


def higher(test: Paired) -> bool:
    """It scores higher on the dev examples, by any margin."""
    return test.new > test.old


@attrs.frozen
class Choice:
    """What `choose` decided."""

    winner: int | None  # the candidate now in the program (0: the program as it stood); None: nothing compared
    test: Paired | None  # the best challenger against candidate 0, on the same examples
    tried: tuple[Tried, ...]  # one per candidate
    examples: int
    stopped: str | None = None  # why a candidate went unscored (the budget), if one did

    @property
    def changed(self) -> bool:
        return bool(self.winner)

    @property
    def summary(self) -> str:
        """The comparison in words: "0.800 against 0.600 on 20 examples (won 5, lost 1, p=0.109)"."""
        if self.test is None:
            return "nothing could be compared"
        t = self.test
        p = t.p_better if t.new >= t.old else t.p_worse
        return f"{t.new:.3f} against {t.old:.3f} on {self.examples} examples (won {t.wins}, lost {t.losses}, p={p:.3f})"


def choose(
    candidates: Sequence[tuple[Any, str]],
    *,
    scorer: Candidates,
    dev: Sequence[Example],
    accept: Accept,
    step: int,
    numbered: int = 0,
) -> Choice:
    """Score every candidate on `dev`; the best challenger replaces candidates[0] (the program as it
    stands) if `accept` says so. The winner is committed whenever a comparison was made; a candidate
    the budget left unscored is dropped. `candidates` are (candidate, origin) pairs; Tried numbers
    start at `numbered`."""
    scored, unscored = scorer.scores_together([candidate for candidate, _ in candidates], dev)
    challengers = [number for number in scored if number > 0]
    best = max(challengers, key=lambda number: (mean(scored[number]), -number), default=None)
    test = paired(scored[0], scored[best]) if 0 in scored and best is not None else None
    winner = None if test is None else (best if accept(test) else 0)
    if winner is not None:
        scorer.commit(candidates[winner][0])
    choice = Choice(winner=winner, test=test, tried=(), examples=len(dev), stopped=next(iter(unscored.values()), None))
    decisions = _decisions(choice, best, len(candidates)) | {
        number: f"dropped: {why}" for number, why in unscored.items()
    }
    start = candidates[0][0]
    tried = tuple(
        Tried(
            step=step,
            candidate=numbered + number,
            origin=origin,
            changes=scorer.changes(start, candidate) if number else {},
            score=mean(scored[number]) if number in scored else None,
            examples=len(dev) if number in scored else 0,
            decision=decisions[number],
        )
        for number, (candidate, origin) in enumerate(candidates)
    )
    return attrs.evolve(choice, tried=tried)


def _decisions(choice: Choice, best: int | None, count: int) -> dict[int, str]:
    decisions = {number: "dropped: not the best" for number in range(1, count)}
    if choice.winner is None:
        return decisions | {0: "kept: nothing could be compared"}
    if choice.winner:
        return decisions | {0: "the program before the step", choice.winner: f"kept: {choice.summary}"}
    return decisions | {0: "kept: no candidate beat it", best: f"dropped: {choice.summary}"}
