"""compile(): the training loop.

Per iteration: sample the trainset per label, run the program (forward), score it
(loss), send critiques back through the graph (backward), rewrite the texts (step), and
score the new texts on a validation set that was split off once at the start and is
never sampled for training. The program that scores best on validation is returned,
not simply the last one. The input program is never changed.

With a `run_dir`, every finished iteration is checkpointed there and `resume=True`
carries on from the last one; with the response cache in place, a resumed run re-sends
nothing already answered and ends where an uninterrupted run would. A `budget_usd`
stops the run before an iteration that would exceed it, and `max_failure_rate` stops it
when too many calls of a forward pass fail, rather than training on garbage.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from promptgraph import checkpoint
from promptgraph.backward import Critique
from promptgraph.data import Example, require_labels, stratified_sample, stratified_split
from promptgraph.errors import PromptgraphError
from promptgraph.executors import executor_for
from promptgraph.lm import LM, Batching, Ledger, Usage
from promptgraph.lm.ledger import cost_text
from promptgraph.metrics import Evaluation, Metric, evaluate, exact_match
from promptgraph.optimizers.base import Optimizer, StepContext, StepResult, Tried, Update
from promptgraph.parameter import Demo
from promptgraph.program import Program
from promptgraph.saving import values_from_dict
from promptgraph.trace import FAILED, Trace

logger = logging.getLogger(__name__)


@attrs.frozen
class IterationRecord:
    iteration: int  # 0 is the program as given, before any training
    values: dict[str, str]  # the texts that were validated in this iteration
    val: Evaluation
    train: Evaluation | None = None  # the training minibatch, before this iteration's update
    critiques: tuple[Critique, ...] = ()
    updates: tuple[Update, ...] = ()
    samples: tuple[Trace, ...] = ()  # the training minibatch's traces, for the report
    usd: float = 0.0  # spent so far in the run
    calls: dict[str, int] = attrs.field(factory=dict)  # API calls so far, per tag (cache hits excluded)
    demos: dict[str, list[Demo]] = attrs.field(factory=dict)  # the few-shot demos that were validated
    kept: bool = True  # False: it lost to the best so far on validation, so training went on from the best
    tried: tuple[Tried, ...] = ()  # the candidates a search optimizer scored in this iteration

    def to_dict(self) -> dict:
        """JSON-ready, without the traces."""
        return {
            "iteration": self.iteration,
            "values": self.values,
            "demos": {name: [attrs.asdict(demo) for demo in pairs] for name, pairs in self.demos.items()},
            "val": self.val.to_dict(),
            "train": self.train.to_dict() if self.train else None,
            "critiques": [attrs.asdict(critique) for critique in self.critiques],
            "updates": [attrs.asdict(update) for update in self.updates],
            "usd": self.usd,
            "calls": self.calls,
            "kept": self.kept,
            "tried": [attrs.asdict(tried) for tried in self.tried],
        }

    @classmethod
    def from_dict(cls, data: dict) -> IterationRecord:
        """The inverse of `to_dict` (the traces were not saved, so `samples` is empty)."""
        return cls(
            iteration=data["iteration"],
            values=data["values"],
            demos=checkpoint.demos_from_dict(data["demos"]),
            val=checkpoint.evaluation_from_dict(data["val"]),
            train=checkpoint.evaluation_from_dict(data["train"]) if data["train"] else None,
            critiques=tuple(checkpoint.critique_from_dict(item) for item in data["critiques"]),
            updates=tuple(checkpoint.update_from_dict(item) for item in data["updates"]),
            usd=data["usd"],
            calls=data["calls"],
            kept=data.get("kept", True),
            tried=tuple(checkpoint.tried_from_dict(item) for item in data.get("tried", ())),
        )

    def __repr__(self) -> str:
        """The scores and the decision; the traces and per-example scores are in the fields, not here."""
        train = f", train={self.train.score:.2f}" if self.train is not None else ""
        usd = f", usd={self.usd:.4f}" if self.usd else ""  # 0: nothing paid, or nothing priced
        return f"IterationRecord(iteration={self.iteration}{train}, val={self.val.score:.2f}, kept={self.kept}{usd})"


class TrainingError(RuntimeError, PromptgraphError):
    """Training stopped because going on would waste money or learn from garbage."""


@attrs.frozen
class CompileResult:
    program: Program
    history: tuple[IterationRecord, ...]
    ledger: Ledger
    best_iteration: int
    stopped: str | None = None  # why the run ended early (the budget), if it did

    @property
    def best(self) -> IterationRecord:
        return self.history[self.best_iteration]

    def __repr__(self) -> str:
        gain = f"val {self.history[0].val.score:.2f}->{self.best.val.score:.2f}"
        stopped = f", stopped={self.stopped.split(':', 1)[0]!r}" if self.stopped else ""
        return f"CompileResult(best={self.best_iteration}, {gain}, {cost_text(self.ledger.accounts())}{stopped})"


def compile(  # noqa: A001  # the name users expect, as in DSPy
    program: Program,
    *,
    trainset: Sequence[Example],
    lm: LM,
    optimizer: Optimizer,
    metric: Metric = exact_match,
    valset: Sequence[Example] | None = None,
    iterations: int = 5,
    samples_per_label: int = 100,
    val_per_label: int = 50,
    seed: int = 0,
    ledger: Ledger | None = None,
    progress: bool | None = None,
    on_iteration: Callable[[Sequence[IterationRecord], Ledger, Program], None] | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    budget_usd: float | None = None,
    max_failure_rate: float = 0.5,
    revert_worse: bool = True,
    batch: bool | Batching = False,
) -> CompileResult:
    """Train `program`'s texts; return a new program, its history and what it cost.

    `lm` runs the program (the cheap forward model); the optimizer changes its trainable
    values: TextualGradientDescent with a strong model writing critiques and rewrites, or
    DemoSearch choosing few-shot demos with no strong model at all. With no `valset`, up
    to `val_per_label` examples of each label are held out of the trainset once, before
    training starts. A program that does not end in a classifier (free-text answers) is
    sampled as one group: `samples_per_label` and `val_per_label` are then totals.
    `on_iteration(history, ledger, program)` is called after every iteration (and once
    before the first), e.g. with a ReportWriter. With `revert_worse`, an update that
    scores below the best so far on validation is recorded and then undone, so the next
    iteration trains from the best program rather than from a worse one. With `batch`, the
    forward model's calls go through Message Batches at half price (results take minutes
    to hours); the batch ids are kept in `run_dir`, so an interrupted run resumes polling.
    """
    if iterations < 0 or samples_per_label < 1:
        raise ValueError("iterations must be >= 0 and samples_per_label >= 1")
    if resume and run_dir is None:
        raise ValueError("resume=True needs the run_dir of the run to resume")
    # A classifier's data is sampled per label; free-text targets (every answer its own
    # "label") are sampled as one group, so sizes stay bounded.
    stratify = bool(program.labels)
    labels = _labels(program, require_labels(trainset, valset or (), classifier=stratify))
    if valset is None:
        trainset, valset = stratified_split(trainset, val_per_label, seed=seed, stratify=stratify)
    if not valset:
        raise ValueError(
            "the validation set is empty: raise val_per_label or pass a valset, or nothing can be compared"
        )
    run_dir = Path(run_dir) if run_dir is not None else None
    settings = {
        "seed": seed,
        "samples_per_label": samples_per_label,
        "trainset": [example.id for example in trainset],
        "valset": [example.id for example in valset],
    }
    ledger = ledger if ledger is not None else Ledger()
    student = copy.deepcopy(program)
    if batch is True:
        batch = Batching(state=run_dir / "batches.json" if run_dir is not None else None, progress=progress)
    batching = batch or None

    def run(examples: Sequence[Example], tag: str) -> list[Trace]:
        traces = student.run(
            examples, lm=lm, ledger=ledger, tag=tag, progress=progress, executor=executor_for(batching)
        )
        failed = [trace for trace in traces if trace.status == FAILED]
        if traces and len(failed) / len(traces) > max_failure_rate:
            resumable = run_dir is not None and (run_dir / checkpoint.FILE).exists()
            where = f"; the checkpoint in {run_dir} lets you resume once it is fixed" if resumable else ""
            raise TrainingError(
                f"{len(failed)} of {len(traces)} {tag} calls failed (more than {max_failure_rate:.0%}), so training "
                f"stopped rather than learn from garbage. First error: {failed[0].final.outcome.error}{where}"
            )
        return traces

    def validate() -> Evaluation:
        return evaluate(run(valset, "validate"), metric=metric, labels=labels)

    def spent() -> dict:
        calls: dict[str, int] = {}
        for account in ledger.accounts():
            calls[account.tag] = calls.get(account.tag, 0) + account.calls
        return {"usd": ledger.usd, "calls": calls}

    def snapshot() -> dict:
        return {"values": student.values(), "demos": student.demo_values()}

    def finished(history: list[IterationRecord]) -> None:
        if run_dir is not None:
            records = [record.to_dict() for record in history]
            checkpoint.write(
                run_dir,
                iteration=history[-1].iteration,
                program=student,
                history=records,
                ledger=ledger,
                settings=settings,
                optimizer_state=optimizer.state() if hasattr(optimizer, "state") else None,
            )
        if on_iteration:
            on_iteration(history, ledger, student)

    if resume:
        history = _resume(run_dir, student, ledger, settings, optimizer)
    else:
        if run_dir is not None:  # every paid call is journaled, so a killed iteration's calls are counted on resume
            run_dir.mkdir(parents=True, exist_ok=True)
            ledger.journal_to(run_dir / checkpoint.JOURNAL)
        history = [IterationRecord(iteration=0, val=validate(), **snapshot(), **spent())]
        logger.info("iteration 0: validation %.3f (the program as given)", history[0].val.score)
        finished(history)
    stopped = None
    for iteration in range(history[-1].iteration + 1, iterations + 1):
        if budget_usd is not None:
            estimate = _next_cost(history, program=student, trainset=trainset, valset_size=len(valset),
                                  samples_per_label=samples_per_label, optimizer=optimizer, lm=lm)  # fmt: skip
            if ledger.usd + estimate > budget_usd:
                stopped = (
                    f"budget: spent ${ledger.usd:.4f} of ${budget_usd:.4f}; iteration {iteration} would cost "
                    f"about ${estimate:.4f} more"
                )
                logger.info("stopping before iteration %d for the %s", iteration, stopped)
                break
        step_seed = seed * 1000 + iteration
        batch = stratified_sample(trainset, samples_per_label, seed=step_seed, stratify=stratify)
        traces = run(batch, "forward")
        train = evaluate(traces, metric=metric, labels=labels)
        if train.score < 1.0:
            context = StepContext(
                lm, ledger, metric, labels, trainset, step_seed, progress, stratify, batching, iteration, seed
            )
            step = optimizer.step(student, traces=traces, evaluation=train, context=context)
            val = validate()
        else:  # no mistake to learn from: spend nothing on critique, rewrite or re-validation
            unchanged_since = history[-1] if history[-1].kept else history[best_iteration(history)]
            step, val = StepResult(), unchanged_since.val
        best_so_far = history[best_iteration(history)]
        kept = not (revert_worse and val.score < best_so_far.val.score)
        history.append(
            IterationRecord(
                iteration=iteration,
                val=val,
                train=train,
                critiques=step.critiques,
                updates=step.updates,
                tried=step.tried,
                samples=tuple(traces),
                kept=kept,
                **snapshot(),
                **spent(),
            )
        )
        logger.info(
            "iteration %d: validation %.3f (training %.3f, best before %.3f): %s",
            iteration, val.score, train.score, best_so_far.val.score,
            "kept" if kept else f"undone, training goes on from iteration {best_so_far.iteration}",
        )  # fmt: skip
        if not kept:
            _restore(student, best_so_far)
        finished(history)

    ledger.close_journal()
    best = best_iteration(history)
    _restore(student, history[best])
    student.meta = student.meta | {  # the user's own keys stay; compile's record replaces an older one
        "best_iteration": best,
        "stopped": stopped,
        "metrics": history[best].val.to_dict(),
        "cost": ledger.to_dict() | {"usd": ledger.usd},
        "history": [record.to_dict() for record in history],
    }
    return CompileResult(program=student, history=tuple(history), ledger=ledger, best_iteration=best, stopped=stopped)


def _restore(program: Program, record: IterationRecord) -> None:
    """Put back the texts and demos of an earlier iteration (each change kept in the histories)."""
    for name, parameter in program.named_parameters():
        if parameter.value != record.values[name]:
            parameter.update(record.values[name])
    for name, demos in program.named_demos():
        if demos.pairs != record.demos[name]:
            demos.update(record.demos[name])


def _resume(
    run_dir: Path, student: Program, ledger: Ledger, settings: dict, optimizer: Optimizer
) -> list[IterationRecord]:
    """Restore the program, ledger, history and optimizer memory of the last finished iteration; refuse a different run."""
    saved = checkpoint.read(run_dir)
    changed = sorted(key for key in settings if saved.settings.get(key) != settings[key])
    if changed:
        raise ValueError(
            f"{run_dir} was a run with other settings or data ({', '.join(changed)} differ); "
            "resume with the same data, seed and samples per label, or start a new run directory"
        )
    values_from_dict(student, saved.program, str(run_dir / checkpoint.FILE))
    for account in saved.ledger.accounts():
        ledger.restore(account)
    ledger.journal_to(run_dir / checkpoint.JOURNAL, counted=saved.journal_lines)
    if saved.optimizer_state is not None and hasattr(optimizer, "restore"):
        optimizer.restore(saved.optimizer_state)
    return [IterationRecord.from_dict(record) for record in saved.history]


def _next_cost(history: Sequence[IterationRecord], **plan) -> float:
    """What the next iteration will likely cost: the last one's cost; before any, an estimate.

    The first estimate scales iteration 0's validation cost to a minibatch more, and adds the
    optimizer's calls from `estimate_compile` without their repairs, with 1,000 output
    tokens each: typical, not the upper bound, which would refuse most budgets outright.
    """
    if len(history) > 1:
        return history[-1].usd - history[-2].usd
    from promptgraph.estimate import estimate_compile  # it knows every module and optimizer

    optimizer_lm = getattr(plan["optimizer"], "lm", None)
    phases = estimate_compile(
        plan["program"],
        trainset=plan["trainset"],
        valset_size=plan["valset_size"],
        iterations=1,
        samples_per_label=plan["samples_per_label"],
        optimizer=plan["optimizer"],
        forward_model=plan["lm"].model,
        optimizer_model=optimizer_lm.model if optimizer_lm is not None else plan["lm"].model,
    )
    by_phase = {phase.phase: phase for phase in phases}
    validation = history[0].usd
    batch = by_phase["forward"].calls / max(by_phase["validate"].calls / 2, 1)
    likely = validation * (1 + batch)
    for phase in phases:
        if phase.phase in ("forward", "validate"):
            continue
        if phase.model == plan["lm"].model:  # scoring candidates: priced like the validation pass
            likely += validation * phase.calls / max(by_phase["validate"].calls / 2, 1)
        else:  # the optimizer's structured calls: half of them are repairs
            calls = phase.calls // 2
            likely += Usage(input_tokens=phase.input_tokens // 2, output_tokens=1000 * calls).cost(phase.model)
    return likely


def best_iteration(history: Sequence[IterationRecord]) -> int:
    """The iteration with the highest validation score; ties keep the earlier, simpler texts."""
    return max(range(len(history)), key=lambda index: (history[index].val.score, -index))


def _labels(program: Program, data_labels: list[str]) -> list[str]:
    """The classifier's declared labels (in its order) when it has them, else the data's."""
    declared = list(program.labels)
    if declared:
        unknown = sorted(set(data_labels) - set(declared))
        if unknown:
            raise ValueError(
                f"the data has labels the classifier does not know: {', '.join(unknown)}; add them to its labels or map them"
            )
        return declared
    return data_labels
