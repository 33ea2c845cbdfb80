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
from collections.abc import Mapping, Sequence

import attrs

from promptgraph import prompts
from promptgraph.lm import LM
from promptgraph.lm.reprs import settings
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import TEXTS, Optimizer, StepContext, StepResult, Tried, Update, as_optimizer
from promptgraph.optimizers.search import Scorer, beats, choose, trainable_values
from promptgraph.phases import PROPOSE_OVERHEAD_TOKENS, PhaseEstimate, Shape
from promptgraph.program import Program
from promptgraph.structured import ask_json
from promptgraph.trace import Trace


@attrs.define
class ProposeInstructions(Optimizer):
    """Instructions written from labelled examples (APE); the one that scores best is kept.

    For each module's trainable system prompt, in running order, the optimizer model reads
    `examples` labelled examples of the whole task and the module's role, and proposes
    `candidates` instructions in one reply; each is scored on the same held-out training
    examples, and the best replaces the current text when the sign test says it is better.
    It needs no text to start from, so it suits a first step: with `then`, every later step
    is the other optimizer's.

    Its step costs, per module with a trainable system prompt, one optimizer-model call (two
    with a repair retry) and (`candidates` + 1) x `dev_per_label` forward calls per label, or
    `max_calls` if that is lower; later steps cost what `then`'s do.

    Args:
        lm: the optimizer model that proposes instructions.
        candidates: instructions proposed per module.
        examples: labelled examples shown to the optimizer model.
        dev_per_label: held-out training examples per label each candidate is scored on.
        alpha: how sure the sign test must be that a candidate is better (its p-value).
        max_calls: the most forward calls scoring may spend per step; None: no cap.
        max_tokens: the most a proposal reply may hold, thinking included.
        effort: the optimizer model's effort; None: the server's default.
        then: the optimizer for every step after the first (e.g. TextualGradientDescent); None: each step proposes anew.
    """

    lm: LM  # the optimizer model
    candidates: int = 8  # instructions proposed per module
    examples: int = 10  # labelled examples shown
    dev_per_label: int = 20  # held-out examples per label each candidate is scored on
    alpha: float = 0.2  # how sure the sign test must be that a candidate is better
    max_calls: int | None = None  # forward calls per step
    max_tokens: int = 8000
    effort: str | None = prompts.OPTIMIZER_EFFORT
    then: Optimizer | None = attrs.field(  # the optimizer for every step after the first
        default=None, converter=attrs.converters.optional(as_optimizer)
    )
    done: bool = attrs.field(default=False, init=False)

    def __repr__(self) -> str:
        return settings(self, always=("lm",))

    def trains(self) -> frozenset[str]:
        return frozenset({TEXTS})  # its proposals, and `then` (a text optimizer) after them

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

    def undone(self, values: Mapping[str, str]) -> None:
        if self.then is not None:  # the step compile undid may have been the other optimizer's
            self.then.undone(values)

    def state(self) -> dict:
        return {"done": self.done, "then": self.then.state() if self.then is not None else None}

    def restore(self, state: dict) -> None:
        self.done = bool(state["done"])
        if state.get("then") is not None and self.then is not None:
            self.then.restore(state["then"])

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        trainable = len(shape.trainable)
        scored = (self.candidates + 1) * trainable * self.dev_per_label * shape.labels
        phases = [
            shape.strong(
                "propose (at most)", 2 * trainable, PROPOSE_OVERHEAD_TOKENS + self.examples * 100, self.max_tokens
            ),
            shape.forward("search (proposal scoring)", scored),
        ]
        if self.then is not None and shape.steps > 1:  # the first step is this one's, the rest the other's
            phases += self.then.estimate(attrs.evolve(shape, steps=shape.steps - 1))
        return phases

    def _improve(self, program, name, parameter, dev, scorer, context, numbered) -> tuple[list[Update], list[Tried]]:
        start = trainable_values(program)
        instructions, replies = self._propose(program, name, parameter, context)
        candidates = [(start, "current")] + [
            ({**start, name: text}, f"instruction for {name}") for text in instructions
        ]
        choice = choose(
            candidates, scorer=scorer, dev=dev, accept=beats(self.alpha), step=context.iteration, numbered=numbered
        )
        node = name.split(".", 1)[0]
        if not choice.changed:
            reason = f"no proposed instruction beat the current {name} on {len(dev)} held-out examples"
            update = Update(node=node, status="unchanged", changes={}, reasoning=reason, replies=replies)
        else:
            reason = f"the best of {len(instructions)} proposals: {choice.summary}"
            changes = {name: (parameter.history[-1], parameter.value)}
            update = Update(node=node, status="changed", changes=changes, reasoning=reason, replies=replies)
        return [update], list(choice.tried)

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
        request = prompt.request(max_tokens=self.max_tokens, effort=self.effort)

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
