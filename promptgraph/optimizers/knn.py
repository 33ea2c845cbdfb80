"""KNNDemos (DSPy's KNNFewShot): each input is shown the `k` training examples most like it.

In its one step it puts the labelled training examples, each answered in the module's
own reply format, into the answering module's Demos as a pool, with a BM25 retriever
(retrieval.py); from then on every input is shown its `k` nearest, at run time, on any
backend. It calls no model: the pool comes from the labels, not from replies. The pool is
compile's training split only (`context.trainset`), never the validation set, and a
saved program keeps the pool and the retriever's settings, so it retrieves the same
demos after loading without the trainset.

Only a module that reads the program's own inputs and gives its answer can take the
pool: its demos can be written from an example's inputs and label alone. Having set the
pool, the optimizer has nothing left to try, so the run ends after that iteration.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from promptgraph.data import Example
from promptgraph.lm.reprs import settings
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import DEMOS, Optimizer, StepContext, StepResult, Update
from promptgraph.optimizers.demos import trainable_demos
from promptgraph.parameter import Demo, Demos
from promptgraph.phases import PhaseEstimate, Shape
from promptgraph.program import Program
from promptgraph.retrieval import Retriever
from promptgraph.trace import Trace

NO_MINIBATCH = "knn writes its demo pool from the training examples' labels, so it reads no replies"


@attrs.define
class KNNDemos(Optimizer):
    """Retrieved demos (DSPy's KNNFewShot): the `k` training examples nearest each input (BM25 over their words).

    Its one step puts the labelled training examples (never the validation set) into the
    answering module's demos as a pool, with a retriever; at run time each input is shown
    the `k` most like it, on any backend. A saved program keeps the pool and the
    retriever's settings, and rebuilds the index from the pool on load.

    A step costs no model calls (compile still validates the result); the run then stops.

    Args:
        k: demos shown to each input.
        k1: BM25's term-frequency saturation.
        b: BM25's length normalisation.
    """

    k: int = 4  # demos shown to each input
    k1: float = 1.5  # BM25's term-frequency saturation
    b: float = 0.75  # BM25's length normalisation

    def __repr__(self) -> str:
        return settings(self, always=("k",))  # how many demos each input sees: what a reader asks first

    @property
    def retriever(self) -> Retriever:
        return Retriever(k=self.k, k1=self.k1, b=self.b)

    def begin_step(self, program: Program, context: StepContext) -> Sequence[Example]:
        return []  # it learns from the trainset, not from replies: compile runs no minibatch for it

    def minibatch_size(self, default: int) -> int:
        return 0  # so the dry run and a call budget count none

    def trains(self) -> frozenset[str]:
        return frozenset({DEMOS})

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        targets = trainable_demos(program)
        if not targets:
            return StepResult(stopped="knn stopped: no module of the program takes demos")
        retriever = self.retriever  # checked once, before any module changes
        updates = []
        for name, (node, demos) in targets.items():
            pool = demo_pool(program, node, context.trainset)
            if pool is None:
                reason = "its demos cannot be written from the training examples: it does not read the program's inputs and give its answer"
                updates.append(Update(node=node, status="unchanged", changes={}, reasoning=reason))
                continue
            before = describe(demos)
            demos.update(pool)
            demos.retriever = retriever
            reason = f"{len(pool)} training examples to retrieve from (never the validation set)"
            updates.append(
                Update(node=node, status="changed", changes={name: (before, describe(demos))}, reasoning=reason)
            )
        return StepResult(
            updates=tuple(updates),
            stopped="knn: the demo pool is set; retrieval has nothing more to learn",
            no_minibatch=NO_MINIBATCH,
        )

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        return []  # no calls of its own: the pool comes from the labels


def demo_pool(program: Program, node: str, trainset: Sequence[Example]) -> list[Demo] | None:
    """A demo for every labelled training example, in the trainset's order; None when the module at
    `node` does not read only program inputs and answer for the program, or writes no reply format."""
    module = program.nodes[node]
    answers_here, field = program.output.split(".", 1)
    wiring = program.wiring(node)
    if node != answers_here or any("." in source for source in wiring.values()) or len(module.outputs) != 1:
        return None
    pool = []
    for example in trainset:
        if example.label is None:
            continue
        answer = module.answer_text({field: example.label})
        if answer is None:  # a user's parser reads a layout of its own
            return None
        pool.append(Demo({name: str(example.inputs[source]) for name, source in wiring.items()}, answer))
    return pool


def describe(demos: Demos) -> str:
    if demos.retriever is None:
        return f"{len(demos.pairs)} fixed demos" if demos.pairs else "(no demos)"
    # "a pool", not "N demos": only the k nearest are sent with each input
    pool = f"a pool of {len(demos.pairs)} training examples"
    return f"{pool}, the {demos.retriever.k} nearest shown to each input ({demos.retriever.kind})"
