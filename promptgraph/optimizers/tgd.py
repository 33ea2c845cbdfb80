"""TextualGradientDescent: critique through the graph, then rewrite each module's texts from its feedback.

One rewrite call per module that has feedback. The reply is a JSON object of new values
(or of targeted edits); it is checked (only known parameter names, strings, and the
module's own checks such as "the prompts still ask for <label>X</label>"), repaired once
if it fails, and otherwise the step changes nothing and says why. Feedback is cleared
after the step, as `zero_grad` does. An optional gate tries the step on held-out training
examples and undoes it if it does worse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from promptgraph import prompts
from promptgraph.backward import Critique, CritiqueLimits, backward
from promptgraph.lm import LM, Ledger
from promptgraph.lm.reprs import settings
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import TEXTS, Optimizer, StepContext, StepResult, Tried, Update, rejected
from promptgraph.optimizers.search import Scorer, changes_between, check_values, choose, not_worse, trainable_values
from promptgraph.phases import CRITIC_OVERHEAD_TOKENS, REWRITE_OVERHEAD_TOKENS, PhaseEstimate, Shape
from promptgraph.program import Program
from promptgraph.prompts import clip
from promptgraph.structured import ask_json
from promptgraph.trace import Trace


@attrs.frozen
class Gate:
    """Accept a step only if it does not lose to the program it would replace.

    Both are run on the same `per_label` examples per label of the trainset (never the
    step's own minibatch, nor the validation set), and compared example by example: only
    the examples one gets right and the other wrong count. The step is undone when the
    sign test's one-sided p-value that it is worse falls below `alpha`. At the default 0.5
    that is exactly "it lost more examples than it won"; a lower alpha undoes only steps
    that are worse beyond reasonable doubt, at the risk of keeping a harmful one.

    It costs 2 x `per_label` forward calls per label per step (old and new program), or
    `max_calls` if that is lower.

    Args:
        per_label: held-out training examples per label both programs are run on.
        alpha: the sign test's p-value below which the step is undone.
        max_calls: the most forward calls the gate may spend per step; None: no cap.
    """

    per_label: int = 20
    alpha: float = 0.5
    max_calls: int | None = None  # forward calls the gate may spend per step


@attrs.frozen
class Rejected:
    """A value the gate turned down, shown to later rewrites of the same parameter."""

    value: str
    why: str


@attrs.define
class TextualGradientDescent(Optimizer):
    """Textual backprop: the optimizer model critiques each module's mistakes, then rewrites its texts.

    Each step, backward asks the optimizer model (Opus's role) for one critique per module,
    in reverse running order, over a bounded sample of the minibatch's mistakes and correct
    answers; each trainable text with feedback is then rewritten in one call per module.
    With a `gate`, a step is tried on held-out training examples before it is kept (see
    Gate); what it turned down is shown to the next rewrites, and so is what compile undid.
    With `edits=True` the rewriter returns targeted edits (replace this sentence, add this
    rule) instead of whole new texts, which keeps what already works and costs fewer
    output tokens.

    A step costs one critic call per module and one rewrite call per module with trainable
    texts (each at most twice, with a repair retry), whatever the trainset's size; with a
    gate, also 2 x `gate.per_label` forward calls per label. No forward calls otherwise.

    Args:
        lm: the optimizer model, e.g. AnthropicLM(model=OPTIMIZER_MODEL); it writes critiques and rewrites.
        limits: a CritiqueLimits bounding what one critic call is shown (examples, characters).
        max_tokens: the most a rewrite reply may hold, thinking included.
        effort: the optimizer model's effort on every call, the critic's included; None: the server's default.
        chars_per_feedback: how much of a text's collected feedback the rewriter reads.
        max_value_chars: a rewrite longer than this, and than twice the old text, is refused as a runaway reply.
        gate: a Gate that keeps a step only if it does not lose on held-out training examples; None: no gate.
        edits: ask for targeted edits instead of whole texts.
        remember: how many turned-down values per text are shown to later rewrites.
    """

    lm: LM
    limits: CritiqueLimits = CritiqueLimits()
    max_tokens: int = 8000
    effort: str | None = prompts.OPTIMIZER_EFFORT  # of every call it makes, the critic's included
    chars_per_feedback: int = 2000
    max_value_chars: int = 10_000  # a rewrite longer than this and than twice the old text is a runaway reply
    gate: Gate | None = None
    edits: bool = False
    remember: int = 3  # rejected values shown per parameter
    rejected: dict[str, list[Rejected]] = attrs.field(factory=dict, init=False)
    wrote: bool = attrs.field(default=False, init=False)  # the last step left changed texts in the program

    def __repr__(self) -> str:
        return settings(self, always=("lm",))

    def critique(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> tuple[Critique, ...]:
        """Backward at this optimizer's effort: every module's critique, its feedback written into its parameters."""
        limits = attrs.evolve(self.limits, effort=self.effort)
        return tuple(
            backward(program, traces, evaluation, lm=self.lm, ledger=context.ledger, limits=limits, seed=context.seed)
        )

    def trains(self) -> frozenset[str]:
        return frozenset({TEXTS})

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        """Backward (critiques into every parameter's feedback), then one rewrite per module with feedback."""
        self.wrote = False
        critiques = self.critique(program, traces=traces, evaluation=evaluation, context=context)
        before = trainable_values(program)
        updates = tuple(self.rewrite(program, evaluation=evaluation, ledger=context.ledger))
        after = trainable_values(program)
        if after == before:
            return StepResult(critiques=critiques, updates=updates)
        if self.gate is None:
            self.wrote = True
            untested = self._untested(before, after, context, "no gate; compile's validation judges it")
            return StepResult(critiques=critiques, updates=updates, tried=(untested,))
        dev = context.dev_sample(self.gate.per_label, exclude=[trace.example for trace in traces])
        choice = choose(
            [(before, "current"), (after, "rewrite")],
            scorer=Scorer(program, context, self.gate.max_calls),
            dev=dev,
            accept=not_worse(self.gate.alpha),
            step=context.iteration,
        )
        if choice.winner is None:  # the budget ran out: compile's validation judges it
            self.wrote = True
            return StepResult(
                critiques=critiques, updates=updates, tried=(self._untested(before, after, context, choice.stopped),)
            )
        if choice.winner:
            self.wrote = True
            return StepResult(critiques=critiques, updates=updates, tried=choice.tried)
        why = f"scored {choice.summary}"  # the gate put the texts from before the step back
        for name, (_, value) in changes_between(before, after).items():
            self._reject(name, value, why)
        undone = rejected(updates, f"undone by the gate: it {why}")
        return StepResult(critiques=critiques, updates=undone, tried=choice.tried)

    @staticmethod
    def _untested(before: dict[str, str], after: dict[str, str], context: StepContext, why: str | None) -> Tried:
        return Tried(
            step=context.iteration,
            candidate=1,
            origin="rewrite",
            changes=changes_between(before, after),
            score=None,
            examples=0,
            decision=f"kept untested: {why}",
        )

    def undone(self, values: Mapping[str, str]) -> None:
        """What compile undid goes in the memory too, if this optimizer wrote it."""
        if self.wrote:
            for name, value in values.items():
                self._reject(name, value, "scored below the best texts on validation, so it was undone")
        self.wrote = False

    def _reject(self, name: str, value: str, why: str) -> None:
        kept = self.rejected.setdefault(name, [])
        kept.append(Rejected(value=value, why=why))
        del kept[: max(0, len(kept) - self.remember)]

    def state(self) -> dict:
        rejected = {name: [[r.value, r.why] for r in values] for name, values in self.rejected.items()}
        return {"rejected": rejected}

    def restore(self, state: dict) -> None:  # a checkpoint's "left", from before `undone`, is not needed
        self.rejected = {
            name: [Rejected(value=v, why=w) for v, w in values] for name, values in state["rejected"].items()
        }

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        phases = list(self.critique_and_rewrite_estimate(shape, steps=shape.steps))
        if self.gate is not None:
            phases.append(shape.forward("search (gate)", shape.steps * 2 * self.gate.per_label * shape.labels))
        return phases

    def critique_and_rewrite_estimate(self, shape: Shape, *, steps: int) -> tuple[PhaseEstimate, PhaseEstimate]:
        """The critic's and the rewriter's calls over `steps` backward passes (BeamSearch runs one per member)."""
        limits = self.limits
        shown = shape.labels * (limits.mistakes_per_label + limits.correct_per_label)
        per_shown = min(limits.chars_per_field // 4, shape.per_example_in) + min(
            limits.chars_per_field // 4, shape.per_example_out
        )
        critic = shape.strong(
            "critic (at most)",
            2 * steps * len(shape.modules),
            CRITIC_OVERHEAD_TOKENS + shown * per_shown,
            limits.max_tokens,
        )
        rewrite_in = REWRITE_OVERHEAD_TOKENS + 3 * self.chars_per_feedback // 4
        rewrite = shape.strong("rewrite (at most)", 2 * steps * len(shape.trainable), rewrite_in, self.max_tokens)
        return critic, rewrite

    def rewrite(
        self,
        program: Program,
        *,
        evaluation: Evaluation,
        ledger: Ledger | None = None,
        seed: int = 0,
        clear: bool = True,
    ) -> list[Update]:
        """One rewrite per module with feedback; `seed` asks for another sample of the same rewrite."""
        updates = []
        for node in program.order():
            module = program.nodes[node]
            local = {f"{node}.{path}": p for path, p in module.named_parameters()}
            with_feedback = {name: p for name, p in local.items() if p.trainable and p.feedback}
            if with_feedback:
                updates.append(self._rewrite(program, node, module, with_feedback, evaluation, ledger, seed))
            if clear:
                for parameter in local.values():
                    parameter.clear_feedback()
        return updates

    def _rewrite(self, program, node, module, targets, evaluation, ledger, seed) -> Update:
        def check(data) -> list[str]:
            values, problems, _ = self._read(data, targets)
            return problems or check_values(program, values, max_chars=self.max_value_chars)

        prompt = prompts.rewrite(
            node=node,
            description=module.description or "is one step of the program",
            summary=evaluation.summary(),
            parameters=[
                {
                    "name": name,
                    "role": p.role,
                    "value": p.value,
                    "constraints": p.constraints,
                    "feedback": p.feedback,
                    "rejected": self.rejected.get(name, []),
                }
                for name, p in targets.items()
            ],
            limit=self.chars_per_feedback,
            edits=self.edits,
        )
        reply = ask_json(
            self.lm, prompt.request(max_tokens=self.max_tokens, seed=seed, effort=self.effort), check, ledger=ledger
        )
        if reply.data is None:
            error = "; ".join(reply.problems) + "; no change made"
            return Update(node=node, status="rejected", changes={}, replies=reply.replies, error=error)
        values, _, edits = self._read(reply.data, targets)
        changes = {}
        for name, value in values.items():
            parameter = targets[name]
            if value != parameter.value:
                changes[name] = (parameter.value, value)
                parameter.update(value)
        reasoning = str(reply.data.get("reasoning", ""))
        status = "changed" if changes else "unchanged"
        return Update(
            node=node, status=status, changes=changes, reasoning=reasoning, replies=reply.replies, edits=edits
        )

    def _read(self, data, targets) -> tuple[dict[str, str], list[str], tuple[str, ...]]:
        """(new values, problems, the edits as sentences) from a rewrite reply, in either mode."""
        if not self.edits:
            values = data.get("values")
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                return {}, ['"values" must be an object mapping parameter names to strings'], ()
            unknown = sorted(set(values) - set(targets))
            if unknown:
                return {}, [f'"values" names {", ".join(unknown)}; only {", ".join(targets)} may change'], ()
            return values, [], ()
        return apply_edits(data.get("edits"), {name: p.value for name, p in targets.items()})


def apply_edits(edits: object, current: dict[str, str]) -> tuple[dict[str, str], list[str], tuple[str, ...]]:
    """Apply find/replace edits in order; (new values of the edited texts, problems, what each edit did)."""
    if not isinstance(edits, list) or not all(isinstance(edit, dict) for edit in edits):
        return {}, ['"edits" must be a list of {"parameter", "find", "replace"} objects'], ()
    values: dict[str, str] = {}
    problems, done = [], []
    for number, edit in enumerate(edits, start=1):
        name, find, replace = edit.get("parameter"), edit.get("find", ""), edit.get("replace")
        if not isinstance(name, str) or name not in current:
            problems.append(f"edit {number} names {name!r}; only {', '.join(current)} may change")
            continue
        if not isinstance(find, str) or not isinstance(replace, str):
            problems.append(f'edit {number}: "find" and "replace" must be strings')
            continue
        text = values.get(name, current[name])
        if not find:
            values[name] = f"{text} {replace}".strip() if text else replace
            done.append(f"{name}: appended {clip(replace, 200)!r}")
        elif text.count(find) != 1:
            where = "does not occur in" if find not in text else "occurs more than once in"
            problems.append(f"edit {number}: the text to find {where} the current {name}; copy it exactly")
        else:
            values[name] = text.replace(find, replace)
            done.append(f"{name}: replaced {clip(find, 200)!r} with {clip(replace, 200)!r}")
    return values, problems, tuple(done)
