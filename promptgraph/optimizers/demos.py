"""BootstrapDemos (also DemoSearch): choose few-shot demos by score, with no strong model at all.

Each step builds a pool of candidate demos per module from this iteration's traces:
- replies the module gave on examples the program got right (bootstrapped, as in DSPy's
  BootstrapFewShot: they show the model its own format working), and
- for the module that gives the answer, the examples the program got wrong, each paired
  with the right answer written in the module's own reply format ("retain the wrong
  samples": the cases the prompt does not cover yet are the most informative demos).
It then draws a few random demo sets, balanced across labels, scores each on a dev sample
of the trainset (the same sample for all, so the comparison is paired, and never the
examples the demos came from), and keeps the best only if it beats the current demos.
The validation set is never touched here; compile keeps the best program on it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import attrs

from promptgraph.data import Example
from promptgraph.lm.reprs import settings
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import DEMOS, Optimizer, StepContext, StepResult, Update
from promptgraph.optimizers.search import choose, demos_text, higher, with_values
from promptgraph.parameter import Demo, Demos
from promptgraph.phases import PhaseEstimate, Shape
from promptgraph.program import Program
from promptgraph.trace import FAILED, Trace


@attrs.define
class BootstrapDemos(Optimizer):
    """Few-shot demos chosen by score, with no optimizer model at all (also named DemoSearch).

    Each step pools candidate demos per module from the step's traces (the module's own
    replies where the program was right, and, for the answering module, the examples it got
    wrong with the right answer), draws `candidates` random demo sets balanced across
    labels, scores each on the same dev sample of the trainset, and keeps the best only if
    it beats the current demos.

    A step costs (`candidates` + 1) x `dev_per_label` forward calls per label (the prompts
    grow by `per_module` demos); no optimizer-model calls.

    Args:
        per_module: demos shown to each module.
        candidates: random demo sets scored per step.
        dev_per_label: dev examples per label the demo sets are scored on.
    """

    per_module: int = 4  # demos shown to each module
    candidates: int = 6  # random demo sets scored per step
    dev_per_label: int = 10  # dev examples per label the candidates are scored on

    def __repr__(self) -> str:
        return settings(self)

    def trains(self) -> frozenset[str]:
        return frozenset({DEMOS})

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        targets = trainable_demos(program)
        if not targets:  # nothing will change that: say so, and the run ends rather than pay for more steps
            return StepResult(stopped="demos stopped: no module of the program takes demos")
        pools = {name: demo_candidates(program, node, traces, evaluation.scores) for name, (node, _) in targets.items()}
        dev = context.dev_sample(self.dev_per_label, exclude=[trace.example for trace in traces], offset=0)
        if not dev:
            return StepResult()
        rng = random.Random(f"demos:{context.seed}")
        current = {name: list(demos.pairs) for name, (_, demos) in targets.items()}
        sets = [(current, "current")]
        sets += [
            ({name: draw_demos(pools[name], self.per_module, rng) for name in targets}, "demo set")
            for _ in range(self.candidates)
        ]
        choice = choose(
            sets,
            scorer=_DemoSets(targets=targets, program=program, context=context),
            dev=dev,
            accept=higher,
            step=context.iteration,
        )
        if not choice.changed:
            reason = f"no demo set beat the current one ({choice.tried[0].score:.3f} on {len(dev)} dev examples)"
            updates = tuple(
                Update(node=node, status="unchanged", changes={}, reasoning=reason) for node, _ in targets.values()
            )
            return StepResult(updates=updates, tried=choice.tried)
        best = sets[choice.winner][0]
        score = choice.tried[choice.winner].score
        reason = f"scored {score:.3f} on {len(dev)} dev examples, the best of {self.candidates} sets"
        updates = tuple(
            Update(
                node=node,
                status="changed",
                changes={name: (_describe(current[name]), _describe(best[name]))},
                reasoning=reason,
            )
            for name, (node, _) in targets.items()
            if best[name] != current[name]
        )
        return StepResult(updates=updates, tried=choice.tried)

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        dev = min(self.dev_per_label * shape.labels, len(shape.trainset))
        return [shape.forward("search (demos)", shape.steps * (self.candidates + 1) * dev, demos=self.per_module)]


def trainable_demos(program: Program) -> dict[str, tuple[str, Demos]]:
    """Trainable demos of the program's own modules (not of nested programs), by name, with their node."""
    return {
        f"{node}.{path}": (node, demos)
        for node, module in program.nodes.items()
        if not isinstance(module, Program)
        for path, demos in module.named_demos()
        if demos.trainable
    }


def demo_candidates(program: Program, node: str, traces: Sequence[Trace], scores: Sequence[float]) -> dict:
    """Candidate demos for one module, grouped by the example's label."""
    module = program.nodes[node]
    answers_here, field = program.output.split(".", 1)
    pool: dict[str, list[Demo]] = {}
    for trace, score in zip(traces, scores, strict=True):
        step = trace.nodes[node]
        if step.status == FAILED and not step.inputs:
            continue
        inputs = {name: str(value) for name, value in step.inputs.items()}
        if score >= 1.0 and step.response_text is not None:
            demo = Demo(inputs, step.response_text)
        elif (
            node == answers_here
            and trace.example.label is not None
            and len(inputs) == len(module.inputs)
            and len(module.outputs) == 1  # else the other outputs would be the model's wrong ones, or missing
        ):
            answer = module.answer_text({**step.outputs, field: trace.example.label})
            if answer is None:
                continue
            demo = Demo(inputs, answer)
        else:
            continue
        pool.setdefault(str(trace.example.label), []).append(demo)
    return pool


def draw_demos(pool: dict[str, list[Demo]], count: int, rng: random.Random) -> list[Demo]:
    """Up to `count` demos, taking labels in turn; with more labels than demos, which labels
    come first is drawn too, so across candidate sets no label is left out."""
    queues = [rng.sample(group, len(group)) for _, group in sorted(pool.items())]
    rng.shuffle(queues)
    chosen: list[Demo] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop())
    rng.shuffle(chosen)  # so the label of the last demo does not hint at the answer
    return chosen


@attrs.define
class _DemoSets:
    """Demo sets as `choose` candidates: each scored on the dev examples with the rest of the program as it is."""

    targets: dict[str, tuple[str, Demos]]
    program: Program
    context: StepContext

    def scores(self, pairs: dict[str, list[Demo]], examples: Sequence[Example]) -> list[float]:
        current = {name: demos.pairs for name, (_, demos) in self.targets.items()}
        self._apply(pairs)
        try:
            return list(self.context.score(self.program, examples).scores)
        finally:
            self._apply(current)

    def scores_together(
        self, candidates: Sequence[dict[str, list[Demo]]], examples: Sequence[Example]
    ) -> tuple[dict[int, list[float]], dict[int, str]]:
        """Every set on a copy of the program, all run together: one Message Batch per generation."""
        copies = [
            with_values(self.program, {name: demos_text(pairs[name]) for name in self.targets}) for pairs in candidates
        ]
        evaluations = self.context.score_together([(copied, examples) for copied in copies])
        return {number: list(evaluation.scores) for number, evaluation in enumerate(evaluations)}, {}

    def commit(self, pairs: dict[str, list[Demo]]) -> None:
        """The chosen demos, each change kept in the demos' history."""
        for name, (_, demos) in self.targets.items():
            if demos.pairs != pairs[name]:
                demos.update(pairs[name])

    def changes(self, start: dict[str, list[Demo]], pairs: dict[str, list[Demo]]) -> dict[str, tuple[str, str]]:
        return {name: (_describe(start[name]), _describe(pairs[name])) for name in pairs if pairs[name] != start[name]}

    def _apply(self, pairs: dict[str, list[Demo]]) -> None:
        for name, (_, demos) in self.targets.items():
            demos.pairs = list(pairs[name])


def _describe(pairs: Sequence[Demo]) -> str:
    if not pairs:
        return "(no demos)"
    shown = " | ".join(f"{' / '.join(d.inputs.values())[:60]} -> {d.output[:40]}" for d in pairs)
    return f"{len(pairs)} demos: {shown}"


DemoSearch = BootstrapDemos  # its first name, kept for programs and scripts that use it
