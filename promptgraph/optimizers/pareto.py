"""ParetoSearch: reflective evolution over a per-example Pareto frontier, driven by per-module critiques.

GEPA's loop, on promptgraph's parts. Every step:

1. `begin_step` picks a parent from the pool of validated candidates: from the Pareto
   frontier in proportion to the validation examples each one leads (or the best, or
   epsilon-greedy, for comparison), puts its texts in the program, and hands compile a
   small minibatch (`minibatch` examples: the parent's known failures first, then the
   next examples of a seeded pass over the trainset).
2. `step` reflects on it by one textual backprop step: backward writes a critique per
   module (each module reads feedback meant for it, not one global verdict), and the
   strong model rewrites every module its critic gave feedback to (or one in turn, or the
   one the metric's feedback blames: `policy`).
3. The child is screened (it must not copy a training example's words into a prompt, nor
   pass `max_tokens_per_text`, nor be a candidate already in the pool). It must do better
   than its parent on the examples it was made from (cheap: the parent's scores there are
   the step's forward pass), and then win more than it loses against its parent on held-out
   training examples: the nearest neighbours of its failures and a random few per label,
   never the examples it was made from. GEPA accepts on the examples it reflected on alone,
   which rewards a child that learnt those examples rather than the task.
4. compile validates an accepted child (a rejected one costs no validation), and
   `validated` adds it to the pool with its per-example scores.

After an accepted child, the next step may try a merge instead: two frontier candidates
that descend from a common ancestor and changed different modules are combined (each
module from the one that changed it), kept if it does at least as well as the better
parent on held-out examples. The pool, the merges tried and the minibatch cursor are in
`state()`, so a resumed run carries on the same search.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence

import attrs

from promptgraph import prompts
from promptgraph.backward import CritiqueLimits
from promptgraph.data import Example
from promptgraph.lm import LM
from promptgraph.lm.reprs import settings
from promptgraph.lm.tokens import count_tokens
from promptgraph.metrics import Evaluation
from promptgraph.optimizers.base import DEMOS, TEXTS, Optimizer, StepContext, StepResult, Tried, Update, rejected
from promptgraph.optimizers.demos import demo_candidates, draw_demos, trainable_demos
from promptgraph.optimizers.nearest import nearest, tokens
from promptgraph.optimizers.pool import SELECTIONS, Candidate, Pool, merged_values, modules_changed
from promptgraph.optimizers.search import (
    Accept,
    Scorer,
    beats,
    changes_between,
    choose,
    commit,
    demos_from_text,
    demos_text,
    higher,
    mean,
    trainable_values,
)
from promptgraph.optimizers.tgd import TextualGradientDescent
from promptgraph.phases import PhaseEstimate, Shape
from promptgraph.program import Program
from promptgraph.trace import Trace

POLICIES = ("round_robin", "blame", "all")


@attrs.define
class ParetoSearch(Optimizer):
    """Reflective search over a per-example Pareto frontier (GEPA's idea, with per-module critiques).

    Use it with a forward-call budget: `compile(..., optimizer=ParetoSearch(strong),
    max_metric_calls=1500)` runs until the budget is spent. A step costs its minibatch twice (the parent,
    then the child), a held-out test only for a child that did better there (at most
    `dev_per_label` per label plus `dev_neighbours` per failure, for child and parent; scores
    already known are not run again), and a validation pass only for an accepted child;
    in optimizer-model calls, one critic call per module and one rewrite per rewritten module.

    Args:
        lm: the strong model that writes critiques and rewrites.
        minibatch: training examples reflected on per step.
        dev_per_label: held-out training examples per label a child is tested on, drawn at random.
        dev_neighbours: per failure the child was made from, the held-out examples most like it, tested too.
        selection: how the parent is picked: "pareto" (from the per-example frontier), "best" or "epsilon".
        epsilon: with selection="epsilon", the chance of a random parent.
        policy: which modules a step rewrites: "all" (each its critic gave feedback to), "round_robin" or "blame".
        merges: merge attempts (two candidates' texts combined) in a run; 0: never merge.
        accept_alpha: the sign test a child must pass on held-out examples; None: win more than it loses.
        max_tokens_per_text: a rewritten text over this many tokens is rejected (a length budget); None: no limit.
        demos: with demos > 0, every other step redraws one module's demos (up to this many).
        copy_words: a rewrite that copies this many consecutive words of a training input is rejected.
        limits: a CritiqueLimits bounding what one critic call is shown.
        max_tokens: the most an optimizer-model reply may hold, thinking included.
        effort: the optimizer model's effort; None: the server's default.
    """

    lm: LM  # the strong model: critiques and rewrites
    minibatch: int = 6  # examples reflected on per step (6 beat 4 and 8 in benchmarks/search_worlds.py)
    dev_per_label: int = 2  # held-out training examples per label a child is tested on, drawn at random
    dev_neighbours: int = 2  # ... and, per failure it was made from, the held-out examples most like it
    selection: str = "pareto"  # how the parent is picked: "pareto", "best" or "epsilon"
    epsilon: float = 0.1  # with selection="epsilon": the chance of a random parent
    # Which modules a reflection rewrites. "all" (each module its critic gave feedback to) uses
    # backward's credit assignment; GEPA's "round_robin" is for optimizers without one.
    policy: str = "all"
    merges: int = 5  # merge attempts in a run; 0: never merge
    accept_alpha: float | None = None  # None: the child must win more held-out examples than it loses
    max_tokens_per_text: int | None = None  # a rewritten text over this many tokens is rejected (a length budget)
    demos: int = 0  # with demos > 0, every other step redraws one module's demos (up to this many)
    copy_words: int = 12  # a rewrite that copies this many consecutive words of a training input is rejected
    limits: CritiqueLimits = CritiqueLimits(mistakes_per_label=4, correct_per_label=2, max_examples=12)
    max_tokens: int = 8000
    effort: str | None = prompts.OPTIMIZER_EFFORT
    pool: Pool = attrs.field(factory=Pool, init=False)
    _parent: int | None = attrs.field(default=None, init=False)  # the candidate this step mutates
    _merge: tuple[int, int, int] | None = attrs.field(default=None, init=False)  # (first, second, ancestor)
    _merge_due: bool = attrs.field(default=False, init=False)  # an accepted child asks for a merge next
    _merged: set[tuple[int, int]] = attrs.field(factory=set, init=False)  # pairs already tried
    _pending: dict | None = attrs.field(default=None, init=False)  # the accepted child's origin, until validated
    _turn: int = attrs.field(default=0, init=False)  # steps taken: with demos, every other one draws demos
    _rotation: int = attrs.field(default=0, init=False)  # round robin position over the modules
    _cursor: int = attrs.field(default=0, init=False)  # minibatch position in the seeded pass over the trainset
    _failures: dict[int, list[str]] = attrs.field(factory=dict, init=False)  # candidate -> training ids it got wrong
    _scorer: Scorer | None = attrs.field(default=None, init=False, repr=False)  # kept: a parent's scores are reused
    # Candidate -> its training scores paid for before a resume, until the scorer is made and takes them.
    _restored_scores: dict[int, dict[str, float]] = attrs.field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}, not {self.selection!r}")
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")
        if self.minibatch < 1 or self.dev_per_label < 1:
            raise ValueError("minibatch and dev_per_label must be at least 1")

    def __repr__(self) -> str:
        return settings(self, always=("lm",))

    @property
    def writer(self) -> TextualGradientDescent:
        """Backward and the rewrite, as TextualGradientDescent does them, at this optimizer's settings."""
        return TextualGradientDescent(lm=self.lm, limits=self.limits, max_tokens=self.max_tokens, effort=self.effort)

    # -- compile's hooks -------------------------------------------------------------------------

    def minibatch_size(self, default: int) -> int:
        return self.minibatch

    def begin_step(self, program: Program, context: StepContext) -> Sequence[Example] | None:
        """Put the parent (or a merge's first candidate) in the program; the examples to reflect on."""
        if not self.pool:  # compile has not validated anything yet: start from the program as it is
            self.pool.add(self._snapshot(program), (), origin="start")
        rng = random.Random(f"pareto:{context.seed}")
        self._merge = None
        if self._merge_due and len(self._merged) < self.merges:
            pair = self.pool.merge_pair(self._merged)
            if pair is not None:
                first, second, ancestor = pair
                self._merge = (first.number, second.number, ancestor.number)
                self._parent = first.number
                commit(program, first.values)
                return []  # a merge reflects on nothing: compile runs no minibatch for it
        parent = self.pool.select(self.selection, rng, epsilon=self.epsilon)
        self._parent = parent.number
        commit(program, parent.values)
        return self._sample(parent, context, rng)

    def validated(self, iteration: int, program: Program, evaluation: Evaluation) -> None:
        """A validated program joins the pool with its per-example scores (once; known texts are not added)."""
        values = self._snapshot(program)
        if self.pool.find(values) is not None:
            if len(self.pool) == 1 and not self.pool.candidates[0].scores:  # the start, validated at last
                self.pool.candidates[0] = attrs.evolve(self.pool.candidates[0], scores=tuple(evaluation.scores))
            return
        origin = self._pending or {"origin": "start" if not self.pool else "outside"}
        self.pool.add(values, evaluation.scores, iteration=iteration, **origin)
        self._pending = None

    def trains(self) -> frozenset[str]:
        return frozenset({TEXTS, DEMOS}) if self.demos else frozenset({TEXTS})

    def step(
        self, program: Program, *, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext
    ) -> StepResult:
        if self._merge is not None:
            first, second, _ = self._merge
            why = f"a merge combines the texts of candidates #{first} and #{second}, so it reflects on no replies"
            return attrs.evolve(self._try_merge(program, context), no_minibatch=why)
        parent = self.pool.candidates[self._parent if self._parent is not None else self.pool.best().number]
        self._remember_failures(parent, traces, evaluation)
        demo_slots = self._demo_slots(program)
        self._turn += 1
        if demo_slots and self._turn % 2 == 0:  # every other step draws one module's demos instead
            return self._mutate_demos(program, parent, demo_slots[(self._turn // 2) % len(demo_slots)], traces,
                                      evaluation, context)  # fmt: skip
        writer = self.writer
        critiques = writer.critique(program, traces=traces, evaluation=evaluation, context=context)
        targets = self._targets(program, evaluation)
        for name, parameter in program.named_parameters():
            if name.split(".", 1)[0] not in targets:
                parameter.clear_feedback()
        updates = tuple(writer.rewrite(program, evaluation=evaluation, ledger=context.ledger, seed=context.seed))
        return self._judge(
            program, parent, traces, evaluation, context, critiques=critiques, updates=updates, origin="reflection"
        )

    def _judge(
        self, program, parent, traces, evaluation, context, *, critiques=(), updates=(), origin: str
    ) -> StepResult:
        """Screen the child now in the program, test it against its parent on held-out examples, keep or undo it."""
        child = self._snapshot(program)
        problem = self._screen(parent.values, child, context.trainset, texts=set(trainable_values(program)))
        if problem is None:
            problem = self._fixes_nothing(program, child, traces, evaluation, context)
        if problem is not None:
            commit(program, parent.values)
            tried = _tried(context, parent, child, problem, origin=origin)
            return StepResult(critiques=critiques, updates=rejected(updates, problem), tried=(tried,))
        choice = choose(
            [(parent.values, f"parent {parent.number}"), (child, origin)],
            scorer=self._scorer_for(program, context),
            dev=self._dev(traces, evaluation, context),
            accept=self._accept(),
            step=context.iteration,
        )
        if not choice.winner:
            commit(program, parent.values)  # the budget left it unscored, or it did not win: the parent stands
            why = choice.stopped or f"not accepted: {choice.summary}"
            return StepResult(critiques=critiques, updates=rejected(updates, why), tried=choice.tried)
        self._pending = {"parent": parent.number, "changed": modules_changed(parent.values, child), "origin": origin}
        self._merge_due = True
        return StepResult(critiques=critiques, updates=updates, tried=choice.tried)

    def _mutate_demos(self, program, parent, name, traces, evaluation, context) -> StepResult:
        """The module's demos redrawn from this minibatch: the right answers to its mistakes first (the cases
        the program does not cover yet), then replies it got right, then the parent's demos, up to `demos`."""
        node = name.split(".", 1)[0]
        rng = random.Random(f"pareto-demos:{context.seed}")
        wrong = [index for index, score in enumerate(evaluation.scores) if score < 1.0]
        mistakes = demo_candidates(program, node, [traces[i] for i in wrong], [0.0] * len(wrong))
        drawn = draw_demos(mistakes, self.demos, rng)
        right = demo_candidates(program, node, traces, evaluation.scores)
        drawn += [demo for demo in draw_demos(right, self.demos, rng) if demo not in drawn][: self.demos - len(drawn)]
        current = demos_from_text(parent.values[name])
        pairs = drawn + [demo for demo in current if demo not in drawn][: self.demos - len(drawn)]
        commit(program, {name: demos_text(pairs)})
        reason = f"{len(drawn)} demos drawn from the minibatch, {len(pairs) - len(drawn)} kept from the parent"
        update = Update(node=node, status="changed" if pairs != current else "unchanged",
                        changes={name: (f"{len(current)} demos", f"{len(pairs)} demos")}, reasoning=reason)  # fmt: skip
        return self._judge(program, parent, traces, evaluation, context, updates=(update,), origin="demos")

    def _demo_slots(self, program: Program) -> list[str]:
        """The trainable demos of the program's own modules, by name; none unless `demos` asks for them."""
        return list(trainable_demos(program)) if self.demos else []

    def _snapshot(self, program: Program) -> dict[str, str]:
        """The program as a candidate: its trainable texts, and its demo sets when demos are trained."""
        slots = dict(program.named_demos())
        return trainable_values(program) | {name: demos_text(slots[name].pairs) for name in self._demo_slots(program)}

    # -- the parts of a step ---------------------------------------------------------------------

    def _sample(self, parent: Candidate, context: StepContext, rng: random.Random) -> list[Example]:
        """Up to half the parent's known failures, the rest the next examples of a seeded pass over the trainset."""
        pool = [example for example in context.trainset if not example.always]
        by_id = {example.id: example for example in pool}
        failures = [by_id[i] for i in self._failures.get(parent.number, []) if i in by_id]
        chosen = rng.sample(failures, min(len(failures), self.minibatch // 2))
        while len(chosen) < min(self.minibatch, len(pool)):
            example = self._next_in_pass(pool, context.run_seed)
            if example not in chosen:
                chosen.append(example)
        always = [example for example in context.trainset if example.always]
        return always + chosen

    def _next_in_pass(self, pool: Sequence[Example], run_seed: int) -> Example:
        """The example at the cursor of a seeded walk over the trainset, each pass over it in a new order."""
        order = list(pool)
        random.Random(f"pareto-pass:{run_seed}:{self._cursor // len(pool)}").shuffle(order)
        self._cursor += 1
        return order[(self._cursor - 1) % len(pool)]

    def _remember_failures(self, parent: Candidate, traces: Sequence[Trace], evaluation: Evaluation) -> None:
        wrong = [trace.example.id for trace, score in zip(traces, evaluation.scores, strict=True) if score < 1.0]
        known = self._failures.setdefault(parent.number, [])
        known += [example_id for example_id in wrong if example_id not in known]
        right = {trace.example.id for trace, score in zip(traces, evaluation.scores, strict=True) if score >= 1.0}
        known[:] = [example_id for example_id in known if example_id not in right]

    def _targets(self, program: Program, evaluation: Evaluation) -> set[str]:
        """The modules this reflection rewrites."""
        with_feedback = [
            node
            for node in program.order()
            if any(p.trainable and p.feedback for _, p in program.nodes[node].named_parameters())
        ]
        if not with_feedback or self.policy == "all":
            return set(with_feedback)
        if self.policy == "blame":  # the module the metric's feedback names most, then the one critiqued most
            named = Counter(
                module for module, score in zip(evaluation.feedback_modules, evaluation.scores, strict=True)
                if module and score < 1.0
            )  # fmt: skip
            return {max(with_feedback, key=lambda node: (named[node], _feedback_chars(program, node)))}
        node = with_feedback[self._rotation % len(with_feedback)]
        self._rotation += 1
        return {node}

    def _screen(
        self, parent: Mapping[str, str], child: Mapping[str, str], trainset: Sequence[Example], *, texts: set[str]
    ) -> str | None:
        """Why a rewrite is refused before it is scored: it changed nothing, grew too long, or copies an example."""
        if dict(child) == dict(parent):
            return "it changed nothing"
        known = self.pool.find(child)
        if known is not None:
            return f"it is candidate {known.number}, already in the pool"
        for name, value in child.items():
            if value == parent[name] or name not in texts:  # demos are examples by design
                continue
            limit = self.max_tokens_per_text
            if limit is not None and count_tokens(value) > limit:
                return f"{name} is about {count_tokens(value):,} tokens, over max_tokens_per_text {limit:,}"
            copied = copied_example(value, parent[name], trainset, self.copy_words)
            if copied is not None:
                return f"{name} copies {self.copy_words} or more words of training example {copied} verbatim"
        return None

    def _fixes_nothing(self, program, child, traces, evaluation, context) -> str | None:
        """A cheap first test: a child that does not do better on the examples it was made from is dropped
        before the held-out test (the parent's scores there are this step's forward pass, already paid)."""
        own = [trace.example for trace in traces]
        if not own:
            return None
        mine = mean(self._scorer_for(program, context).scores(child, own))
        before = mean(evaluation.scores)
        if mine > before:
            return None
        return f"it scored {mine:.3f} on the {len(own)} examples it was made from, not above its parent's {before:.3f}"

    def _dev(self, traces: Sequence[Trace], evaluation: Evaluation, context: StepContext) -> list[Example]:
        """Held-out examples to test a child on: neighbours of the failures it was made from, then a random few.

        Never the examples it was made from: a child that only learnt those ties its parent here.
        """
        reflected = [trace.example for trace in traces]
        pool = [example for example in context.trainset if example not in reflected and not example.always]
        chosen: dict[int, Example] = {}
        for trace, score in zip(traces, evaluation.scores, strict=True):
            if score < 1.0 and self.dev_neighbours:
                for example in nearest(trace.example, pool, self.dev_neighbours):
                    chosen.setdefault(id(example), example)
        for example in context.dev_sample(self.dev_per_label, exclude=reflected):
            chosen.setdefault(id(example), example)
        return list(chosen.values())

    def _accept(self) -> Accept:
        return higher if self.accept_alpha is None else beats(self.accept_alpha)

    def _scorer_for(self, program: Program, context: StepContext) -> Scorer:
        """One scorer for the run, so a parent scored on an example in an earlier step is not run again."""
        if self._scorer is None or self._scorer.program is not program:
            self._scorer = Scorer(program, context)
            for number, scores in self._restored_scores.items():  # a resumed run does not pay for them again
                self._scorer.remember(self.pool.candidates[number].values, context.trainset, scores)
            self._restored_scores = {}
        self._scorer.context = context
        return self._scorer

    def _paid_scores(self) -> dict[str, dict[str, float]]:
        """Each pool candidate's training scores paid for so far, by example id (for the checkpoint)."""
        if self._scorer is None:
            return {str(number): scores for number, scores in self._restored_scores.items()}
        trainset = self._scorer.context.trainset
        known = {str(c.number): self._scorer.known(c.values, trainset) for c in self.pool.candidates}
        return {number: scores for number, scores in known.items() if scores}

    def _try_merge(self, program: Program, context: StepContext) -> StepResult:
        first, second, ancestor = (self.pool.candidates[number] for number in self._merge)
        self._merged.add((first.number, second.number))
        self._merge_due = False
        merged = merged_values(ancestor, first, second)
        origin = f"merge of {first.number} and {second.number}"
        known = self.pool.find(merged)
        if known is not None:
            tried = _tried(context, first, merged, f"already in the pool as candidate {known.number}", origin=origin)
            return StepResult(tried=(tried,))
        scorer = self._scorer_for(program, context)
        dev = context.dev_sample(self.dev_per_label)
        better = max((first, second), key=lambda c: (scorer.mean(c.values, dev), -c.number))
        choice = choose(
            [(better.values, f"parent {better.number}"), (merged, origin)],
            scorer=scorer,
            dev=dev,
            accept=lambda test: test.new >= test.old,
            step=context.iteration,
        )
        if not choice.winner:
            commit(program, first.values)
            return StepResult(tried=choice.tried)
        self._pending = {
            "parent": better.number,
            "merged_from": (first.number, second.number),
            "changed": modules_changed(better.values, merged),
            "origin": "merge",
        }
        return StepResult(tried=choice.tried)

    # -- the rest of the contract ----------------------------------------------------------------

    def state(self) -> dict:
        return {
            "pool": self.pool.to_dict(),
            "merge_due": self._merge_due,
            "merged": sorted(list(pair) for pair in self._merged),
            "turn": self._turn,
            "rotation": self._rotation,
            "cursor": self._cursor,
            "failures": {str(number): ids for number, ids in self._failures.items()},
            "scores": self._paid_scores(),
        }

    def restore(self, state: dict) -> None:
        self.pool = Pool.from_dict(state["pool"])
        self._merge_due = state["merge_due"]
        self._merged = {(first, second) for first, second in state["merged"]}
        self._turn = state["turn"]
        self._rotation = state["rotation"]
        self._cursor = state["cursor"]
        self._failures = {int(number): list(ids) for number, ids in state["failures"].items()}
        # A checkpoint written before the scores were kept has none: they are paid for again.
        self._restored_scores = {int(n): dict(scores) for n, scores in state.get("scores", {}).items()}
        self._scorer = None

    def estimate(self, shape: Shape) -> list[PhaseEstimate]:
        critic, rewrite = self.writer.critique_and_rewrite_estimate(shape, steps=shape.steps)
        if self.policy != "all":  # one module rewritten per step
            per_call = rewrite.input_tokens // max(rewrite.calls, 1), rewrite.max_output_tokens // max(rewrite.calls, 1)
            rewrite = shape.strong("rewrite (at most)", 2 * shape.steps, *per_call)
        dev = self.dev_per_label * shape.labels + self.dev_neighbours * self.minibatch  # at most
        acceptance = shape.forward("search", shape.steps * 2 * dev)  # named by its calls' tag, as the ledger shows them
        return [critic, rewrite, acceptance]


def copied_example(value: str, before: str, trainset: Sequence[Example], words: int) -> str | None:
    """The id of a training example whose input shares `words` consecutive words with `value` but not with `before`.

    A rule may quote a phrase; a run of a dozen words taken from one example is that
    example pasted into the prompt, which teaches the model the example, not the task.
    """
    new = _shingles(value, words) - _shingles(before, words)
    if not new:
        return None
    for example in trainset:
        text = " ".join(str(field) for field in example.inputs.values())
        if new & _shingles(text, words):
            return str(example.id)
    return None


def _shingles(text: str, words: int) -> set[tuple[str, ...]]:
    found = tokens(text)
    return {tuple(found[i : i + words]) for i in range(len(found) - words + 1)}


def _feedback_chars(program: Program, node: str) -> int:
    return sum(len(item.text) for _, p in program.nodes[node].named_parameters() for item in p.feedback)


def _tried(
    context: StepContext, parent: Candidate, child: Mapping[str, str], why: str, *, origin: str = "reflection"
) -> Tried:
    return Tried(step=context.iteration, candidate=1, origin=origin, changes=changes_between(parent.values, child),
                 score=None, examples=0,
                 decision=f"rejected: {why}")  # fmt: skip
