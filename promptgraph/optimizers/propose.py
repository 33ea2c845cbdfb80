"""ProposeInstructions (APE): write instructions from labelled examples, keep the one that scores best.

For each module's trainable system prompt, the optimizer model reads labelled examples of
the whole task (the program's inputs and the right answers) and the module's role, and
proposes `candidates` different instructions in one reply. Each is scored on the same
held-out training examples with the rest of the program unchanged; the best replaces the
current text when the sign test says it is better. Modules are taken in program order,
each scored with the ones before it already improved.

It needs no texts to start from, so it is a natural first phase: with `then`, the first
step proposes and every later step is the other optimizer's (e.g. TextualGradientDescent).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from promptgraph import prompts
from promptgraph.lm import LM
from promptgraph.lm.reprs import settings
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import Optimizer, StepContext, StepResult, Tried, Update
from promptgraph.optimizers.search import BudgetSpent, Scorer, changes_between, commit, mean, paired, trainable_values
from promptgraph.program import Program
from promptgraph.structured import ask_json
from promptgraph.trace import Trace


@attrs.define
class ProposeInstructions:
    lm: LM  # the optimizer model
    candidates: int = 8  # instructions proposed per module
    examples: int = 10  # labelled examples shown
    dev_per_label: int = 20  # held-out examples per label each candidate is scored on
    alpha: float = 0.2  # how sure the sign test must be that a candidate is better
    max_calls: int | None = None  # forward calls per step
    max_tokens: int = 8000
    then: Optimizer | None = None  # the optimizer for every step after the first
    done: bool = attrs.field(default=False, init=False)

    def __repr__(self) -> str:
        return settings(self, always=("lm",))

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        if self.done and self.then is not None:
            return self.then.step(program, traces=traces, evaluation=evaluation, context=context)
        self.done = True
        minibatch = [trace.example for trace in traces]
        dev = context.dev_sample(self.dev_per_label, exclude=minibatch, offset=300)
        scorer = Scorer(program, context, self.max_calls)
        updates: list[Update] = []
        tried: list[Tried] = []
        for name, parameter in program.named_parameters():
            if not (parameter.trainable and name.endswith(".system")):
                continue
            found, found_tried = self._improve(program, name, parameter, dev, scorer, context, len(tried))
            updates += found
            tried += found_tried
        return StepResult(updates=tuple(updates), tried=tuple(tried))

    def state(self) -> dict:
        then = self.then.state() if self.then is not None and hasattr(self.then, "state") else None
        return {"done": self.done, "then": then}

    def restore(self, state: dict) -> None:
        self.done = bool(state["done"])
        if state.get("then") is not None and hasattr(self.then, "restore"):
            self.then.restore(state["then"])

    def _improve(self, program, name, parameter, dev, scorer, context, numbered) -> tuple[list[Update], list[Tried]]:
        node = name.split(".", 1)[0]
        start = trainable_values(program)
        instructions, replies = self._propose(program, name, parameter, context)
        candidates = [start] + [{**start, name: text} for text in instructions]
        scored: dict[int, list[float]] = {}
        decisions: dict[int, str] = {}
        for number, values in enumerate(candidates):
            try:
                scored[number] = scorer.scores(values, dev)
            except BudgetSpent as spent:
                decisions[number] = f"dropped: {spent}"
        best = max(scored, key=lambda number: (mean(scored[number]), -number)) if scored else 0
        test = paired(scored.get(0, []), scored[best]) if 0 in scored and best in scored else None
        if best == 0 or test is None or not test.better(self.alpha):
            reason = f"no proposed instruction beat the current {name} on {len(dev)} held-out examples"
            update = Update(node, "unchanged", {}, reason, replies)
            best = 0
        else:
            commit(program, candidates[best])
            reason = (
                f"the best of {len(instructions)} proposals: {mean(scored[best]):.3f} against "
                f"{mean(scored[0]):.3f} on {len(dev)} held-out examples (won {test.wins}, lost {test.losses})"
            )
            update = Update(node, "changed", {name: (parameter.history[-1], parameter.value)}, reason, replies)
            decisions[best] = f"kept: {reason}"
        decisions.setdefault(0, "the text before the step" if best != 0 else "kept: nothing better was proposed")
        tried = [
            Tried(
                context.iteration,
                numbered + number,
                "current" if number == 0 else f"instruction for {name}",
                changes_between(start, values),
                mean(scored[number]) if number in scored else None,
                len(dev) if number in scored else 0,
                decisions.get(number, "dropped: not the best"),
            )
            for number, values in enumerate(candidates)
        ]
        return [update], tried

    def _propose(self, program, name, parameter, context) -> tuple[list[str], tuple[str, ...]]:
        node, _, local = name.partition(".")
        module = program.nodes[node]
        rng = random.Random(f"propose:{context.seed}")
        examples = rng.sample(list(context.trainset), min(self.examples, len(context.trainset)))
        prompt = prompts.propose(
            name=name,
            role=parameter.role,
            constraints=parameter.constraints,
            value=parameter.value,
            examples=examples,
            count=self.candidates,
        )
        request = prompt.request(max_tokens=self.max_tokens)

        def usable(data) -> list[str]:
            texts = data.get("instructions")
            if not isinstance(texts, list):
                return []
            return [t for t in texts if isinstance(t, str) and t.strip() and not module.check({local: t})]

        def check(data) -> list[str]:  # a bad instruction is dropped; a reply with no good one is repaired
            if usable(data):
                return []
            texts = data.get("instructions") if isinstance(data.get("instructions"), list) else []
            first = texts[0] if texts and isinstance(texts[0], str) else ""
            return ['no usable instruction in "instructions"', *module.check({local: first})][:4]

        reply = ask_json(self.lm, request, check, ledger=context.ledger)
        if reply.data is None:
            return [], reply.replies
        return list(dict.fromkeys(usable(reply.data)))[: self.candidates], reply.replies
