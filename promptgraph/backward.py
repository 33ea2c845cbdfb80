"""Textual backpropagation: critiques flow from the loss back to every trainable text.

As in micrograd, backward is a topological order walked in reverse. At each module one
critic call reads a bounded sample of this step's traces (mistakes drawn per confusion
cell, plus some correct ones; beside each, what the metric said of the answer, when it
is about the whole program or about this module), the module's parameters with their
roles, and the feedback that reached its outputs from downstream. It returns feedback
for each of the module's trainable parameters and for each input that another module
produced; that input feedback becomes the downstream feedback of the upstream module. A
module that passes feedback through (a plain Python step) forwards it unchanged,
labelled as such.

One critic call per module per step: cost does not grow with the minibatch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from promptgraph import prompts
from promptgraph.errors import PromptgraphError
from promptgraph.lm import LM, Ledger
from promptgraph.lm.reprs import settings, short
from promptgraph.metrics import Evaluation
from promptgraph.parameter import Feedback
from promptgraph.program import Program
from promptgraph.structured import ask_json
from promptgraph.trace import OK, Trace


@attrs.frozen
class CritiqueLimits:
    """Bounds that keep one critic call's size independent of the trainset."""

    mistakes_per_label: int = 10
    correct_per_label: int = 5
    max_examples: int = 40  # in all: with many labels (free-text answers), per-label caps alone do not bound
    chars_per_field: int = 800
    chars_per_feedback: int = 1500
    critique_words: int = 250
    max_tokens: int = 8000  # the optimizer model may think before it answers; thinking counts here
    effort: str | None = prompts.OPTIMIZER_EFFORT  # the critic's effort (optimizers pass their own)

    def __repr__(self) -> str:
        return settings(self)


@attrs.frozen
class ShownTrace:
    """An example the critics are shown, with what the metric said of it."""

    trace: Trace
    score: float
    feedback: str
    module: str | None  # the step the feedback is about; None: every critic reads it

    def feedback_for(self, node: str) -> str:
        if self.module in (None, node):
            return self.feedback
        if self.module.startswith(f"{node}."):  # a nested stage's module: its texts are that stage's critic's
            return f"(about {self.module}) {self.feedback}"
        return ""


@attrs.frozen
class Critique:
    """What the critic of one module said in one step: the critique, feedback per parameter and per
    input, and the examples it saw."""

    node: str
    text: str
    parameters: dict[str, str]  # parameter name -> feedback
    inputs: dict[str, str]  # input field -> feedback for the step that produced it
    example_ids: tuple[str, ...]
    replies: tuple[str, ...] = ()
    error: str | None = None  # set when the critic's reply could not be read as asked
    received: tuple[Feedback, ...] = ()  # the feedback that reached this module's outputs from downstream
    passed_through: bool = False  # a module with nothing to train that handed its feedback on unchanged

    def __repr__(self) -> str:
        parts = [f"node={self.node!r}", f"text={short(self.text)}", f"parameters={list(self.parameters)}"]
        parts += [f"inputs={list(self.inputs)}"] if self.inputs else []
        parts.append(f"examples={len(self.example_ids)}")
        parts += [f"error={short(self.error)}"] if self.error else []
        parts += ["passed_through=True"] if self.passed_through else []
        return f"Critique({', '.join(parts)})"


def select_examples(traces: Sequence[Trace], evaluation: Evaluation, limits: CritiqueLimits, *, seed: int) -> list[int]:
    """Indices of the traces to show: mistakes spread over the confusion cells of each true label, then correct ones."""
    rng = random.Random(f"critique:{seed}")
    cells: dict[str, dict[str, list[int]]] = {}
    correct: dict[str, list[int]] = {}
    chosen = [index for index, trace in enumerate(traces) if trace.example.always]  # canonical: always shown
    explained = [bool(text) for text in evaluation.feedback]
    wrong = [score < 1.0 for score in evaluation.scores]
    for index, trace in enumerate(traces):
        label = str(trace.example.label)
        if trace.example.always:
            continue
        if not wrong[index]:
            correct.setdefault(label, []).append(index)
        else:
            predicted = trace.status if trace.status != OK else str(trace.prediction)
            cells.setdefault(label, {}).setdefault(predicted, []).append(index)
    pinned = len(chosen)
    for label in sorted(cells):
        queues = [rng.sample(group, len(group)) for _, group in sorted(cells[label].items())]
        for queue in queues:  # drawn from the end: the mistakes the metric explained first, at random within each kind
            queue.sort(key=lambda index: explained[index])
        taken = 0
        while taken < limits.mistakes_per_label and any(queues):
            for queue in queues:  # round-robin, so every kind of mistake is represented
                if queue and taken < limits.mistakes_per_label:
                    chosen.append(queue.pop())
                    taken += 1
    for label in sorted(correct):
        chosen.extend(rng.sample(correct[label], min(limits.correct_per_label, len(correct[label]))))
    if len(chosen) > limits.max_examples:
        chosen = _capped(chosen, pinned, limits.max_examples, rng, explained, wrong)
    return chosen


def _capped(
    chosen: list[int], pinned: int, limit: int, rng: random.Random, explained: list[bool], wrong: list[bool]
) -> list[int]:
    """At most `limit` of `chosen`, the first `pinned` kept: the mix of mistakes and correct ones kept, drawn at random.

    Of the mistakes, the ones the metric explained stay before the ones it did not: with
    free-text answers (a label per example) the per-label caps barely bind and this
    draw picks most of what the critic sees.
    """
    keep = sorted(rng.sample(range(pinned, len(chosen)), max(0, limit - pinned)))
    kept = set(keep)
    spare = [i for n, i in enumerate(chosen) if n >= pinned and n not in kept and explained[i] and wrong[i]]
    drawn = [chosen[n] for n in keep]
    return chosen[:pinned] + [spare.pop(0) if spare and wrong[i] and not explained[i] else i for i in drawn]


class FeedbackError(ValueError, PromptgraphError):
    """The metric addressed feedback (`Score(module=...)`) to a name that is not a module of the program."""


def check_feedback_modules(program: Program, evaluation: Evaluation) -> None:
    """Refuse feedback addressed to no module: no critic would read it, and the run would train without it.

    Refused rather than warned of: a misspelled name is a bug in the metric, and going on
    pays the strong model for critiques that miss what the metric meant to say.
    """
    known = module_names(program)
    unknown = sorted({name for name in evaluation.feedback_modules if name is not None and name not in known})
    if unknown:
        raise FeedbackError(
            f"the metric's Score(module=...) names {', '.join(map(repr, unknown))}, which is not a module of the "
            f"program; name one of: {', '.join(known)} (or module=None for the whole program)"
        )


def module_names(program: Program, prefix: str = "") -> list[str]:
    """Every name feedback may address: the nodes in running order, a nested stage's modules as `stage.inner`."""
    names = []
    for node in program.order():
        names.append(f"{prefix}{node}")
        inner = program.nodes[node]
        if isinstance(inner, Program):
            names += module_names(inner, prefix=f"{prefix}{node}.")
    return names


def backward(
    program: Program,
    traces: Sequence[Trace],
    evaluation: Evaluation,
    *,
    lm: LM,
    ledger: Ledger | None = None,
    limits: CritiqueLimits = CritiqueLimits(),
    seed: int = 0,
) -> list[Critique]:
    """Fill every reachable trainable parameter's `feedback`; return the critiques, last module first."""
    shown = _shown(program, traces, evaluation, limits, seed)
    final_node = program.output.split(".", 1)[0]
    arrived: dict[str, list[Feedback]] = {final_node: []}  # node -> feedback on its outputs, in arrival order
    critiques = []
    for node in reversed(program.order()):  # consumers before producers, ties by name: a deterministic merge
        if node not in arrived:
            continue  # nothing downstream of it reached the loss
        module = program.nodes[node]
        received = tuple(arrived[node])
        upstream = [(field, source) for field, source in program.wiring(node).items() if "." in source]
        passed = module.pass_feedback(received)  # the module's own rule, or None: ask a critic
        if passed is not None:
            critique = Critique(
                node,
                "passed through unchanged",
                {},
                {
                    field: "\n".join(f"({item.source}) {item.text}" for item in passed.get(field, ()))
                    for field, _ in upstream
                },
                (),
                received=received,
                passed_through=True,
            )
        else:
            trainable = [(name, p) for name, p in module.named_parameters(node) if p.trainable]
            if not trainable and not upstream:
                continue
            critique = _critique(node, module, trainable, upstream, received, shown, evaluation, lm, ledger, limits)
            for name, parameter in trainable:
                text = critique.parameters.get(name) or critique.text
                if text.strip():  # a failed critic call has nothing to say; a blind rewrite would waste money
                    parameter.feedback.append(Feedback(f"critic of {node}", text))
        critiques.append(critique)
        for field, source in upstream:
            producer, output = source.split(".", 1)
            if passed is not None:
                items = [Feedback(f"{item.source}, passed through {node}", item.text) for item in passed.get(field, ())]
            else:
                text = critique.inputs.get(field)
                items = [Feedback(f"critic of {node}, on {source} (its input {field})", text)] if text else []
            arrived.setdefault(producer, []).extend(items)
    return critiques


def _shown(
    program: Program, traces: Sequence[Trace], evaluation: Evaluation, limits: CritiqueLimits, seed: int
) -> list[ShownTrace]:
    """The examples every critic of this step is shown, each with the metric's feedback on it."""
    check_feedback_modules(program, evaluation)
    return [
        ShownTrace(
            trace=traces[index],
            score=evaluation.scores[index],
            feedback=evaluation.feedback[index],
            module=evaluation.feedback_modules[index],
        )
        for index in select_examples(traces, evaluation, limits, seed=seed)
    ]


def _critique(node, module, trainable, upstream, downstream, shown, evaluation, lm, ledger, limits) -> Critique:
    parameter_names = [name for name, _ in trainable]
    input_names = [field for field, _ in upstream]

    def check(data) -> list[str]:
        problems = []
        if not isinstance(data.get("critique"), str):
            problems.append('"critique" must be a string')
        for key, names in (("parameters", parameter_names), ("inputs", input_names)):
            section = data.get(key, {})
            if not isinstance(section, dict) or not all(isinstance(v, str) for v in section.values()):
                problems.append(f'"{key}" must be an object of strings')
            elif unknown := sorted(set(section) - set(names)):
                problems.append(
                    f'"{key}" names {", ".join(unknown)}, which are not among {", ".join(names) or "(none)"}'
                )
        return problems

    prompt = prompts.critic(
        node=node,
        description=module.description or "is one step of the program",
        parameters=[
            {"name": name, "role": p.role, "value": p.value, "constraints": p.constraints} for name, p in trainable
        ],
        upstream_inputs=upstream,
        downstream=[
            {"source": item.source, "text": prompts.clip(item.text, limits.chars_per_feedback)} for item in downstream
        ],
        summary=evaluation.summary(),
        examples=[_example_view(example, node) for example in shown],
        limit=limits.chars_per_field,
        words=limits.critique_words,
    )
    reply = ask_json(lm, prompt.request(max_tokens=limits.max_tokens, effort=limits.effort), check, ledger=ledger)
    ids = tuple(example.trace.example.id for example in shown)
    if reply.data is None:
        # The reply is still a critique in prose; use it rather than lose it, and say so.
        fallback = reply.replies[-1] if reply.replies else ""
        return Critique(
            node, fallback, {}, {}, ids, reply.replies, error="; ".join(reply.problems), received=downstream
        )
    data = reply.data
    return Critique(
        node,
        data["critique"],
        dict(data.get("parameters", {})),
        dict(data.get("inputs", {})),
        ids,
        reply.replies,
        received=downstream,
    )


def _example_view(example: ShownTrace, node: str) -> prompts.CriticExample:
    trace, step = example.trace, example.trace.nodes[node]
    return {
        "verdict": "correct" if example.score >= 1.0 else "WRONG",
        "score": example.score,
        "feedback": example.feedback_for(node),
        "expected": str(trace.example.label),
        "answered": str(trace.prediction) if trace.status == OK else f"({trace.status})",
        "inputs": step.inputs,
        "outputs": step.outputs if len(step.outputs) > 1 else {},  # one output is plain in the reply already
        "note": trace.example.note,
        "always": trace.example.always,
        "reply": step.response_text if step.response_text is not None else f"(no reply: {step.outcome.error})",
        "error": step.outcome.error if step.status != OK else None,
    }
