"""OPRO: the optimizer model reads the trajectory of past texts and their scores, and proposes better ones.

Each step shows the optimizer model the best texts tried so far with their scores, sorted
so the best comes last (OPRO found this ordering works best), and a few labelled examples
of the task, and asks for several new proposals at once. Every proposal is scored on the
same held-out training examples (chosen once, so scores along the trajectory compare);
the best is taken when the sign test says it beats the current texts. After `patience`
steps in which no proposal did, the optimizer says it has stopped, and compile ends the run.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from promptgraph import prompts
from promptgraph.lm import LM
from promptgraph.lm.reprs import settings
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import TEXTS, Optimizer, StepContext, StepResult, Update
from promptgraph.optimizers.search import (
    BudgetSpent,
    Scorer,
    beats,
    changes_between,
    check_values,
    choose,
    mean,
    parameter_views,
    trainable_values,
    updates_for,
)
from promptgraph.phases import PROPOSE_OVERHEAD_TOKENS, PhaseEstimate, Shape
from promptgraph.program import Program
from promptgraph.structured import ask_json
from promptgraph.trace import Trace


@attrs.frozen
class Point:
    values: dict[str, str]
    score: float


@attrs.define
class OPRO(Optimizer):
    """OPRO: the optimizer model reads past texts with their scores and proposes better ones.

    Each step shows it the `shown` best texts so far, best last, and `examples` labelled
    examples, and asks for `proposals` new texts in one reply. Every proposal is scored on
    the same held-out training examples; the best replaces the current texts when the sign
    test says it is better. After `patience` steps without a better proposal it stops, and
    compile ends the run.

    A step costs one optimizer-model call (two with a repair retry) and (`proposals` + 1) x
    `dev_per_label` forward calls per label, or `max_calls` if that is lower.

    Args:
        lm: the optimizer model that proposes texts.
        proposals: new texts asked for per step.
        shown: best past texts shown in the meta-prompt.
        examples: labelled examples shown in the meta-prompt.
        dev_per_label: held-out training examples per label every proposal is scored on.
        alpha: how sure the sign test must be that a proposal is better (its p-value).
        patience: steps without improvement before it stops.
        max_calls: the most forward calls scoring may spend per step; None: no cap.
        max_tokens: the most a proposal reply may hold, thinking included.
        effort: the optimizer model's effort; None: the server's default.
    """

    lm: LM  # the optimizer model
    proposals: int = 4  # new texts asked for per step
    shown: int = 8  # best past texts in the meta-prompt
    examples: int = 6  # labelled examples in the meta-prompt
    dev_per_label: int = 20  # held-out examples per label every candidate is scored on
    alpha: float = 0.2  # how sure the sign test must be that a proposal is better
    patience: int = 2  # steps without improvement before it stops asking
    max_calls: int | None = None  # forward calls per step
    max_tokens: int = 8000
    effort: str | None = prompts.OPTIMIZER_EFFORT
    trajectory: list[Point] = attrs.field(factory=list, init=False)
    stalled: int = attrs.field(default=0, init=False)

    def __repr__(self) -> str:
        return settings(self, always=("lm",))

    def trains(self) -> frozenset[str]:
        return frozenset({TEXTS})

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        start = trainable_values(program)
        if self.stalled >= self.patience:  # only after a resume from an older run that went on
            return attrs.evolve(_unchanged(program, self._stopped()), stopped=self._stopped())
        dev = context.dev_sample(self.dev_per_label, offset=200, every_step=True)  # scores along the trajectory compare
        scorer = Scorer(program, context, self.max_calls)
        try:
            current = scorer.scores(start, dev)
        except BudgetSpent as spent:
            return _unchanged(program, f"no step: {spent}")
        self._remember(start, mean(current))
        proposals, replies = self._propose(program, context)
        candidates = [(start, "current")] + [({**start, **values}, "proposal") for values in proposals]
        choice = choose(candidates, scorer=scorer, dev=dev, accept=beats(self.alpha), step=context.iteration)
        for (values, _), tried in zip(candidates[1:], choice.tried[1:], strict=True):
            if tried.score is not None:
                self._remember(values, tried.score)
        if not choice.changed:
            self.stalled += 1 if proposals else 0  # a reply that failed is not a sign the search is done
            reason = f"no proposal beat the current texts ({mean(current):.3f}) on {len(dev)} held-out examples"
            stopped = self._stopped() if self.stalled >= self.patience else None
            return attrs.evolve(_unchanged(program, reason, replies, tried=choice.tried), stopped=stopped)
        self.stalled = 0
        changes = changes_between(start, candidates[choice.winner][0])
        updates = updates_for(program, changes, f"held out: {choice.summary}", replies)
        return StepResult(updates=updates, tried=choice.tried)

    def _stopped(self) -> str:
        return f"opro stopped: no proposal beat the current texts in {self.stalled} steps"

    def state(self) -> dict:
        return {"trajectory": [[point.values, point.score] for point in self.trajectory], "stalled": self.stalled}

    def restore(self, state: dict) -> None:
        self.trajectory = [Point(values=dict(values), score=float(score)) for values, score in state["trajectory"]]
        self.stalled = int(state["stalled"])

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        steps, scored = shape.steps, (self.proposals + 1) * self.dev_per_label * shape.labels
        return [
            shape.strong("opro (at most)", 2 * steps, PROPOSE_OVERHEAD_TOKENS + self.shown * 300, self.max_tokens),
            shape.forward("search (proposal scoring)", steps * scored),
        ]

    def _remember(self, values: dict[str, str], score: float) -> None:
        if all(point.values != values for point in self.trajectory):
            self.trajectory.append(Point(values=dict(values), score=score))

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
        request = prompt.request(max_tokens=self.max_tokens, effort=self.effort)

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


def _unchanged(program: Program, reason: str, replies: tuple[str, ...] = (), *, tried=()) -> StepResult:
    update = Update(node=program.order()[0], status="unchanged", changes={}, reasoning=reason, replies=replies)
    return StepResult(updates=(update,), tried=tuple(tried))
