"""OPRO: the optimizer model reads the trajectory of past texts and their scores, and proposes better ones.

Each step shows the optimizer model the best texts tried so far with their scores, sorted
so the best comes last (OPRO found this ordering works best), and a few labelled examples
of the task, and asks for several new proposals at once. Every proposal is scored on the
same held-out training examples (chosen once, so scores along the trajectory compare);
the best is taken when the sign test says it beats the current texts. After `patience`
steps in which no proposal did, the optimizer stops asking.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from promptgraph import prompts
from promptgraph.lm import LM
from promptgraph.lm.reprs import settings
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import StepContext, StepResult, Tried, Update
from promptgraph.optimizers.search import (
    BudgetSpent,
    Scorer,
    changes_between,
    check_values,
    commit,
    mean,
    paired,
    parameter_views,
    trainable_values,
    updates_for,
)
from promptgraph.program import Program
from promptgraph.structured import ask_json
from promptgraph.trace import Trace


@attrs.frozen
class Point:
    values: dict[str, str]
    score: float


@attrs.define
class OPRO:
    lm: LM  # the optimizer model
    proposals: int = 4  # new texts asked for per step
    shown: int = 8  # best past texts in the meta-prompt
    examples: int = 6  # labelled examples in the meta-prompt
    dev_per_label: int = 20  # held-out examples per label every candidate is scored on
    alpha: float = 0.2  # how sure the sign test must be that a proposal is better
    patience: int = 2  # steps without improvement before it stops asking
    max_calls: int | None = None  # forward calls per step
    max_tokens: int = 8000
    trajectory: list[Point] = attrs.field(factory=list, init=False)
    stalled: int = attrs.field(default=0, init=False)

    def __repr__(self) -> str:
        return settings(self, always=("lm",))

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        start = trainable_values(program)
        if self.stalled >= self.patience:
            why = f"stopped: no proposal beat the current texts in {self.stalled} steps"
            return StepResult(updates=(Update(program.order()[0], "unchanged", {}, why),))
        dev = context.dev_sample(self.dev_per_label, offset=200, every_step=True)  # scores along the trajectory compare
        scorer = Scorer(program, context, self.max_calls)
        try:
            current = scorer.scores(start, dev)
        except BudgetSpent as spent:
            return StepResult(updates=(Update(program.order()[0], "unchanged", {}, f"no step: {spent}"),))
        self._remember(start, mean(current))
        proposals, replies = self._propose(program, context)
        candidates = [start] + [{**start, **values} for values in proposals]
        scored: dict[int, list[float]] = {0: current}
        decisions: dict[int, str] = {0: "the texts before the step"}
        for number, values in enumerate(candidates[1:], start=1):
            try:
                scored[number] = scorer.scores(values, dev)
            except BudgetSpent as spent:
                decisions[number] = f"dropped: {spent}"
                continue
            self._remember(values, mean(scored[number]))
        best = max(scored, key=lambda number: (mean(scored[number]), -number))
        test = paired(current, scored[best])
        if best == 0 or not test.better(self.alpha):
            self.stalled += 1 if proposals else 0  # a reply that failed is not a sign the search is done
            best = 0
            reason = f"no proposal beat the current texts ({mean(current):.3f}) on {len(dev)} held-out examples"
            updates = (Update(program.order()[0], "unchanged", {}, reason, replies),)
        else:
            self.stalled = 0
            commit(program, candidates[best])
            reason = (
                f"{mean(scored[best]):.3f} against {mean(current):.3f} on {len(dev)} held-out examples "
                f"(won {test.wins}, lost {test.losses}, p={test.p_better:.3f})"
            )
            updates = updates_for(program, changes_between(start, candidates[best]), reason, replies)
            decisions[best] = f"kept: {reason}"
        tried = tuple(
            Tried(
                context.iteration,
                number,
                "current" if number == 0 else "proposal",
                changes_between(start, values),
                mean(scored[number]) if number in scored else None,
                len(dev) if number in scored else 0,
                decisions.get(number, "dropped: not better" if best == 0 else "dropped: not the best"),
            )
            for number, values in enumerate(candidates)
        )
        return StepResult(updates=updates, tried=tried)

    def state(self) -> dict:
        return {"trajectory": [[point.values, point.score] for point in self.trajectory], "stalled": self.stalled}

    def restore(self, state: dict) -> None:
        self.trajectory = [Point(dict(values), float(score)) for values, score in state["trajectory"]]
        self.stalled = int(state["stalled"])

    def _remember(self, values: dict[str, str], score: float) -> None:
        if all(point.values != values for point in self.trajectory):
            self.trajectory.append(Point(dict(values), score))

    def _propose(self, program: Program, context: StepContext) -> tuple[list[dict[str, str]], tuple[str, ...]]:
        best_last = sorted(self.trajectory, key=lambda point: point.score)[-self.shown :]
        rng = random.Random(f"opro:{context.seed}")
        examples = rng.sample(list(context.trainset), min(self.examples, len(context.trainset)))
        prompt = prompts.opro(
            parameters=parameter_views(program),
            trajectory=best_last,
            examples=examples,
            count=self.proposals,
        )
        request = prompt.request(max_tokens=self.max_tokens)

        def usable(data) -> list[dict[str, str]]:
            proposals = data.get("proposals")
            if not isinstance(proposals, list):
                return []
            return [dict(p) for p in proposals if isinstance(p, dict) and not check_values(program, p)]

        def check(data) -> list[str]:  # a bad proposal is dropped; a reply with no good one is repaired
            if usable(data):
                return []
            proposals = data.get("proposals") if isinstance(data.get("proposals"), list) else [None]
            return ["no usable proposal", *check_values(program, proposals[0])][:4]

        reply = ask_json(self.lm, request, check, ledger=context.ledger)
        if reply.data is None:
            return [], reply.replies
        return usable(reply.data)[: self.proposals], reply.replies
