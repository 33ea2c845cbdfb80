"""BeamSearch (ProTeGi): keep several programs, expand each from its critiques, keep the best few.

Each step, every member of the beam is run on the step's minibatch and critiqued through
the graph (the same backward as TextualGradientDescent); the rewriter then writes
`expansions` candidates from those critiques, and the optimizer model `paraphrases` more
(the same meaning in other words, which explores without new information). The next beam
is chosen from the members and all their candidates by successive rejects on held-out
training examples (select.py), which spends evaluation calls where candidates are close.
The best of the new beam becomes the program; the rest wait for the next step.

A fix that needs two changes, where the first alone scores no better, is out of reach of
one greedy rewrite per step; a beam keeps the half-way candidate alive until the second
change arrives.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import attrs

from promptgraph import prompts
from promptgraph.backward import CritiqueLimits
from promptgraph.lm import LM
from promptgraph.lm.reprs import settings
from promptgraph.metrics import Evaluation, evaluate
from promptgraph.optimizers.base import TEXTS, Optimizer, StepContext, StepResult, Tried
from promptgraph.optimizers.search import (
    Scorer,
    changes_between,
    check_values,
    commit,
    parameter_views,
    trainable_values,
    updates_for,
)
from promptgraph.optimizers.select import successive_rejects
from promptgraph.optimizers.tgd import TextualGradientDescent
from promptgraph.phases import REWRITE_OVERHEAD_TOKENS, PhaseEstimate, Shape
from promptgraph.program import Program
from promptgraph.structured import ask_json
from promptgraph.trace import Trace


@attrs.define
class BeamSearch(Optimizer):
    """Beam search over texts (ProTeGi): keep `width` programs, expand each from its critiques, keep the best.

    Each step, every member of the beam is run on the minibatch and critiqued through the
    graph; the rewriter writes `expansions` candidates from those critiques and the
    optimizer model `paraphrases` more. The next beam is chosen from the members and their
    candidates by successive rejects on held-out training examples; its best becomes the
    program. A fix that needs two changes, where the first alone scores no better, stays
    within reach.

    A step costs `width` x (the critic and rewrite calls of TextualGradientDescent, times
    `expansions`), 2 x `width` x `paraphrases` optimizer-model calls, and up to
    `per_round` forward calls per label per candidate per round of selection, or
    `max_calls` if that is lower.

    Args:
        lm: the optimizer model: critiques, rewrites and paraphrases.
        width: programs kept from step to step.
        expansions: rewrites from critiques per beam member.
        paraphrases: paraphrases per beam member.
        per_round: examples per label in each round of selection.
        max_calls: the most forward calls selection may spend per step; None: no cap.
        limits: a CritiqueLimits bounding what one critic call is shown.
        effort: the optimizer model's effort on every call; None: the server's default.
        edits: the rewriter's edit mode (see TextualGradientDescent).
        exhaustive: score every candidate on every round's examples (for comparison; costs more).
    """

    lm: LM  # the optimizer model: critiques, rewrites, paraphrases
    width: int = attrs.field(default=3, validator=attrs.validators.ge(1))  # programs kept from step to step
    expansions: int = 2  # rewrites from critiques per beam member
    paraphrases: int = 1  # paraphrases per beam member
    per_round: int = 10  # examples per label in each round of selection
    max_calls: int | None = None  # forward calls selection may spend per step
    limits: CritiqueLimits = CritiqueLimits()
    effort: str | None = prompts.OPTIMIZER_EFFORT  # of every call it makes
    edits: bool = False  # the rewriter's edit mode (see TextualGradientDescent)
    exhaustive: bool = False  # score every candidate on every round's examples (for comparison)
    beam: list[dict[str, str]] = attrs.field(factory=list, init=False)

    def __repr__(self) -> str:
        return settings(self, always=("lm",))

    def trains(self) -> frozenset[str]:
        return frozenset({TEXTS})

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        start = trainable_values(program)
        members = ([start] + [member for member in self.beam if member != start])[: self.width]
        minibatch = [trace.example for trace in traces]
        candidates: list[tuple[dict[str, str], str]] = []
        critiques = []
        for number, member in enumerate(members):
            _add(candidates, member, "current" if number == 0 else "beam")
            work = copy.deepcopy(program)
            commit(work, member)
            if number == 0:
                member_traces, member_eval = traces, evaluation
            else:
                member_traces = work.run(
                    minibatch, lm=context.lm, ledger=context.ledger, seed=context.seed, executor=context.executor(),
                    progress=context.progress,
                )  # fmt: skip
                member_eval = evaluate(member_traces, metric=context.metric, labels=context.labels)
            found = self._expand(work, member, member_traces, member_eval, context, candidates, number)
            critiques += found if number == 0 else []
        scorer = Scorer(program, context, self.max_calls)
        selection = successive_rejects(
            [values for values, _ in candidates],
            self.width,
            scorer,
            lambda round_number: context.dev_sample(self.per_round, exclude=minibatch, offset=100 + round_number),
            exhaustive=self.exhaustive,
        )
        best = candidates[selection.kept[0]][0]
        commit(program, best)
        self.beam = [candidates[index][0] for index in selection.kept]
        tried = tuple(
            Tried(
                step=context.iteration,
                candidate=index,
                origin=origin,
                changes=changes_between(start, values),
                score=selection.means.get(index) if selection.seen.get(index) else None,
                examples=selection.seen.get(index, 0),
                decision=_decision(index, selection),
            )
            for index, (values, origin) in enumerate(candidates)
        )
        summary = (
            f"best of {len(candidates)} candidates, {selection.means[selection.kept[0]]:.3f} on "
            f"{selection.seen[selection.kept[0]]} held-out examples; {scorer.calls} evaluation calls"
        )
        updates = updates_for(program, changes_between(start, best), summary)
        return StepResult(critiques=tuple(critiques), updates=updates, tried=tried)

    def _expand(self, work, member, traces, evaluation, context, candidates, number) -> list:
        """Add a member's rewrites from its critiques and its paraphrases to the candidates; its critiques.

        `work` is a copy of the program with the member's texts; its feedback is written and kept.
        """
        found = []
        if evaluation.score < 1.0:
            found = list(self._rewriter().critique(work, traces=traces, evaluation=evaluation, context=context))
            for sample in range(self.expansions):
                expanded = copy.deepcopy(work)
                self._rewriter().rewrite(
                    expanded, evaluation=evaluation, ledger=context.ledger, seed=sample, clear=False
                )
                _add(candidates, trainable_values(expanded), f"critique of beam {number}")
        for sample in range(self.paraphrases):
            paraphrase = self._paraphrase(work, context, sample)
            if paraphrase is not None:
                _add(candidates, {**member, **paraphrase}, f"paraphrase of beam {number}")
        return found

    def _rewriter(self) -> TextualGradientDescent:
        return TextualGradientDescent(lm=self.lm, limits=self.limits, edits=self.edits, effort=self.effort)

    def undone(self, values: Mapping[str, str]) -> None:
        """Compile undid this step's best (it lost on validation): the rest of the beam goes on without it."""
        self.beam = self.beam[1:]

    def state(self) -> dict:
        return {"beam": self.beam}

    def restore(self, state: dict) -> None:
        self.beam = [dict(member) for member in state["beam"]]

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        members, steps = self.width, shape.steps
        critic, rewrite = self._rewriter().critique_and_rewrite_estimate(shape, steps=steps * members)
        candidates = members * (1 + self.expansions + self.paraphrases)
        rounds = max(1, candidates - members)
        scored = sum(candidates - dropped for dropped in range(rounds)) * self.per_round * shape.labels
        if self.max_calls is not None:  # selection stops at its call budget: count no more than that
            scored = min(scored, -(-self.max_calls // len(shape.modules)))
        rewrites = attrs.evolve(  # each member is rewritten `expansions` times
            rewrite,
            calls=rewrite.calls * self.expansions,
            input_tokens=rewrite.input_tokens * self.expansions,
            max_output_tokens=rewrite.max_output_tokens * self.expansions,
        )
        paraphrases = 2 * steps * members * self.paraphrases
        return [
            shape.forward("forward (beam members)", steps * (members - 1) * shape.minibatch),
            critic,
            rewrites,
            shape.strong("paraphrase (at most)", paraphrases, REWRITE_OVERHEAD_TOKENS, 8000),
            shape.forward("search (selection)", steps * scored),
        ]

    def _paraphrase(self, program: Program, context: StepContext, sample: int) -> dict[str, str] | None:
        views = [
            view for view in parameter_views(program) if view["value"].strip()
        ]  # nothing to reword in an empty text
        if not views:
            return None
        request = prompts.paraphrase(parameters=views).request(max_tokens=8000, seed=sample, effort=self.effort)
        reply = ask_json(
            self.lm, request, lambda data: check_values(program, data.get("values")), ledger=context.ledger
        )
        return reply.data["values"] if reply.data is not None else None


def _add(candidates: list[tuple[dict[str, str], str]], values: dict[str, str], origin: str) -> None:
    """A candidate, unless the same texts are already there."""
    if all(values != known for known, _ in candidates):
        candidates.append((values, origin))


def _decision(index: int, selection) -> str:
    if index in selection.kept:
        return "kept: best of the step" if index == selection.kept[0] else "kept in the beam"
    if index in selection.dropped_in_round:
        return f"dropped in round {selection.dropped_in_round[index]} of selection"
    return f"dropped: {selection.stopped}" if selection.stopped else "dropped"
