"""compile(): the training loop.

Per iteration: sample the trainset per label, run the program (forward), score it
(loss), send critiques back through the graph (backward), rewrite the texts (step), and
score the new texts on a validation set that was split off once at the start and is
never sampled for training. The program that scores best on validation is returned,
not simply the last one. The input program is never changed.

With a `run_dir`, every finished iteration is checkpointed there and `resume=True`
carries on from the last one; with the response cache in place, a resumed run re-sends
nothing already answered and ends where an uninterrupted run would. A `budget_usd`
stops the run before an iteration that would exceed it, `max_metric_calls` before one that
could send more forward calls than it allows, and `max_failure_rate` stops it when too many
calls of a forward pass fail, rather than training on garbage. Texts and demos validated
once are not validated again, and an optimizer that has nothing left to try ends the run.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from promptgraph import checkpoint, run_identity
from promptgraph.backward import check_feedback_modules, module_names
from promptgraph.budget import (
    IterationPlan,
    Rollouts,
    check_budget_usd,
    check_metric_calls,
    next_cost,
    unaffordable,
    usd_may_not_pay,
)
from promptgraph.call_settings import set_call_settings
from promptgraph.checkpoint import RunExists  # noqa: F401  # importable here, beside compile's other errors
from promptgraph.compile_inputs import NothingToTrain, as_answer, as_program, check_counts, check_lm, check_run_dir
from promptgraph.data import (
    Example,
    checked_examples,
    refuse_shared_examples,
    require_labels,
    stratified_sample,
    stratified_split,
)
from promptgraph.executors import Labelled, executor_for
from promptgraph.history import CompileResult, IterationRecord, TrainingError, best_iteration  # importable here too
from promptgraph.hooks import IterationHook, as_hook, ask_before_run
from promptgraph.lm import LM, Batching, Ledger
from promptgraph.lm.ledger import cost_text
from promptgraph.lm.preflight import preflight
from promptgraph.metrics import (
    PROBES,
    PROBES_PER_LABEL,
    Evaluation,
    Metric,
    as_metric,
    check_metric,
    evaluate,
    exact_match,
)
from promptgraph.optimizers.base import Optimizer, StepContext, StepResult, as_optimizer
from promptgraph.program import Program
from promptgraph.progress import iteration_label
from promptgraph.run_identity import ResumeMismatch  # noqa: F401  # importable here, beside RunExists
from promptgraph.saving import values_from_dict
from promptgraph.trace import FAILED, Trace

logger = logging.getLogger(__name__)
_next_cost = next_cost  # its name before it moved to budget.py
DEFAULT_ITERATIONS = 5  # the steps a run without a forward-call budget takes unless told


def compile(  # noqa: A001  # the name users expect, as in DSPy
    program: Program,
    *,
    trainset: Sequence[Example],
    lm: LM,
    optimizer: Optimizer,
    metric: Metric = exact_match,
    valset: Sequence[Example] | None = None,
    iterations: int | None = None,
    samples_per_label: int = 100,
    val_per_label: int = 50,
    seed: int = 0,
    ledger: Ledger | None = None,
    progress: bool | None = None,
    on_iteration: IterationHook | Sequence[IterationHook] | None = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    budget_usd: float | None = None,
    max_metric_calls: int | str | None = None,
    max_failure_rate: float = 0.5,
    revert_worse: bool = True,
    batch: bool | Batching = False,
    temperature: float | None = None,
) -> CompileResult:
    """Train `program`'s texts; return a new program, its history and what it cost.

    Per iteration: sample a minibatch of the trainset, run the program on it with `lm`, score
    it with `metric`, let the optimizer change the trainable texts (or demos), and score the
    result on the validation set. The program that scores best on validation is returned, not
    simply the last one; `program` itself is never changed. The returned CompileResult holds
    the trained `program`, the `history` (one IterationRecord per iteration, 0 being the
    program as given), the `ledger` of calls and dollars, and `best_iteration`.

    Args:
        program: the Program whose trainable texts are trained (a bare module is trained as `Program.of(module)`).
        trainset: Examples with their expected labels or answers, to sample minibatches from. They are checked
            before any call as a file's rows are: an input that is None, blank or missing, a repeated id (or, with
            a run_dir, a missing one), a float label, is refused naming its position; int labels become text.
        lm: the forward model that runs the program (the cheap one, e.g. Haiku), wrapped in a
            CachedLM to make reruns and resumes free; an LM object, not a model's name.
        optimizer: what changes the texts: TextualGradientDescent (a strong model writes critiques
            and rewrites), BeamSearch, ParetoSearch, OPRO, ProposeInstructions, DemoSearch (few-shot
            demos, no strong model), or a Chain of them. Each prices its own step (`estimate`) and says what
            it trains (`trains`): a program with none of that trainable (every text frozen) is refused before
            any call (NothingToTrain), unless iterations=0.
        metric: `metric(example, prediction) -> float | Score`, from 0 to 1, 1.0 for right; a Score may carry
            feedback the critic reads. `prediction` is the program's answer, the value of `program.output`: a
            Classify's label text, a last node's first answer field when it has several (choose another with
            `program.output = "node.field"`). A DSPy metric `(gold, pred, trace)` is given trace=None. Before
            any call it is tried on a few validation examples with their own label as the prediction, and
            refused (MetricError) if it raises or gives anything but a number from 0 to 1.
            Default: exact_match on the label or answer.
        valset: Examples to choose the best iteration on. None: up to `val_per_label` examples
            of each label are held out of the trainset once, before training, and never trained on.
        iterations: how many optimizer steps to take (0 only scores the program as given).
            None: with `max_metric_calls`, until that budget ends the run (as DSPy's GEPA does);
            without one, 5.
        samples_per_label: training examples per label in each iteration's minibatch. A program
            that does not end in a classifier (free-text answers) is sampled as one group, and
            this is the minibatch's size.
        val_per_label: validation examples per label held out when no `valset` is given (a total
            for free-text programs).
        seed: seeds every sample and rollout, so the same seed and data give the same run.
        ledger: a Ledger to record calls, tokens and dollars in (e.g. shared with other runs);
            None: a new one, returned as `result.ledger`.
        progress: show progress bars: True, False, or None for only when stderr is a terminal.
        on_iteration: `on_iteration(history, ledger, program)` is called before the first
            iteration and after every one, e.g. a ReportWriter that writes the HTML report; a list of
            callbacks calls each in order. One with a `before_run(resume=, overwrite=)` method is asked first,
            before any call is paid, and may refuse the run (a ReportWriter refuses to write over another
            run's report unless resume or overwrite).
        run_dir: a directory to checkpoint every finished iteration in (and journal every paid
            call, and keep Message Batch ids), so a killed run can be resumed.
        resume: carry on from the last checkpoint in `run_dir`, with the same data, seed and
            settings; with the response cache, nothing already answered is sent again.
        overwrite: start a new run in a `run_dir` that holds a checkpoint (or a report the
            on_iteration ReportWriter would write over), replacing it. Without it (or `resume`), such a
            run_dir is refused with RunExists (ReportExists) before any call is sent.
        budget_usd: stop before an iteration whose likely cost (from the last one's) would take
            the run's spend over this many dollars. Refused before any call: 0 or less, or less than iteration
            0's validation may cost (priced as `--dry-run` prices it, every reply at max_tokens; the refusal says
            what would do). A forward model with no known price cannot be checked.
        max_metric_calls: cap the requests this run sends to `lm` (rollouts: the minibatches, the
            validation passes and the optimizer's scoring; cache hits count too, so the run's path
            does not depend on the cache). Before each iteration compile bounds what it could send
            (minibatch + the optimizer's estimated forward calls + one validation pass, each times
            the modules one example runs through) and stops rather than pass the cap. "light",
            "medium" and "heavy" mean 8, 20 and 50 validation passes (valset size x modules); the
            log says how many calls that is. With `batch`, a call counts when its batch answers
            it, so a batched run takes the same path as one on threads.
        max_failure_rate: stop with a TrainingError when more than this share of a forward pass's
            calls fail, rather than train on garbage (0.5: half).
        revert_worse: an update that scores below the best so far on validation is recorded as
            undone, and the next iteration trains from the best program rather than a worse one.
        batch: send the forward model's calls through Message Batches at half price (results take
            minutes to hours); True, or a Batching with its settings. The batch ids are kept in
            `run_dir`, so an interrupted run resumes polling.
        temperature: every prompt module's sampling temperature, for the run and in the returned
            program; None: each module's own (a classifier's is 0, greedy).

    Returns:
        A CompileResult; `result.program.save(path)` writes the trained program as JSON.
    """
    if iterations is None and max_metric_calls is None:
        iterations = DEFAULT_ITERATIONS
    settings = CompileSettings(
        metric=metric,
        iterations=iterations,
        samples_per_label=samples_per_label,
        val_per_label=val_per_label,
        seed=seed,
        progress=progress,
        on_iteration=on_iteration,
        run_dir=run_dir,
        resume=resume,
        overwrite=overwrite,
        budget_usd=budget_usd,
        max_metric_calls=max_metric_calls,
        max_failure_rate=max_failure_rate,
        revert_worse=revert_worse,
        batching=_batching(batch, run_dir=run_dir, progress=progress),
        temperature=temperature,
    )
    run = Run.prepare(program, trainset=trainset, valset=valset, lm=lm, optimizer=optimizer, ledger=ledger,
                      settings=settings)  # fmt: skip
    with _saying_how_to_resume(settings.run_dir):
        run.start()
        while run.goes_on():
            run.step(run.next_iteration)
        return run.finish()


@attrs.frozen
class CompileSettings:
    """How compile trains: everything it was given but the program, the data, the models and the optimizer."""

    metric: Metric = attrs.field(default=exact_match, converter=as_metric)  # a DSPy (gold, pred, trace) one too
    iterations: int | None = DEFAULT_ITERATIONS  # None: until max_metric_calls ends the run
    samples_per_label: int = 100
    val_per_label: int = 50
    seed: int = 0
    progress: bool | None = None
    on_iteration: IterationHook | None = attrs.field(default=None, converter=as_hook)  # a list: each, in order
    run_dir: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    resume: bool = False
    overwrite: bool = False  # a new run may replace the checkpoint in run_dir
    budget_usd: float | None = None
    max_metric_calls: int | str | None = None  # forward calls; "light", "medium", "heavy": 8, 20, 50 validation passes
    max_failure_rate: float = 0.5
    revert_worse: bool = True
    batching: Batching | None = None  # forward calls through Message Batches
    temperature: float | None = None  # every prompt module's, for the run; None: each module's own

    def __attrs_post_init__(self) -> None:
        check_counts(iterations=self.iterations, samples_per_label=self.samples_per_label)
        check_run_dir(self.run_dir)
        if self.resume and self.run_dir is None:
            raise ValueError("resume=True needs the run_dir of the run to resume")
        if self.resume and self.overwrite:
            raise ValueError(
                "resume=True carries on from run_dir's checkpoint and overwrite=True replaces it: "
                "pass resume=True or overwrite=True, not both"
            )
        check_metric_calls(self.max_metric_calls)
        check_budget_usd(self.budget_usd)
        if self.iterations is None and self.max_metric_calls is None:
            raise ValueError("iterations=None runs until the budget ends: give max_metric_calls too")


def _student(program: Program, settings: CompileSettings) -> Program:
    """The copy that is trained (the program given is never changed), with the run's call settings."""
    student = copy.deepcopy(program)
    if settings.temperature is not None:
        set_call_settings(student, temperature=settings.temperature)
    return student


def _batching(batch: bool | Batching, *, run_dir: str | Path | None, progress: bool | None) -> Batching | None:
    """`batch=True` is Message Batches with the batch ids kept in the run directory."""
    if batch is True:
        return Batching(state=Path(run_dir) / "batches.json" if run_dir is not None else None, progress=progress)
    return batch or None


@attrs.frozen
class TrainingData:
    """The examples a run trains on and the ones it validates on, split once before training."""

    trainset: Sequence[Example]
    valset: Sequence[Example]  # never sampled for training
    labels: list[str]
    stratify: bool  # sample per label (a classifier) or as one group (free-text targets)

    @classmethod
    def split(
        cls, program: Program, trainset: Sequence[Example], valset: Sequence[Example] | None, settings: CompileSettings
    ) -> TrainingData:
        # A classifier's data is sampled per label; free-text targets (every answer its own
        # "label") are sampled as one group, so sizes stay bounded.
        stratify = bool(program.labels)
        labels = _labels(program, require_labels(trainset, valset or (), classifier=stratify))
        if valset is None:
            trainset, valset = stratified_split(trainset, settings.val_per_label, seed=settings.seed, stratify=stratify)
        if not valset:
            raise ValueError(
                "the validation set is empty: raise val_per_label or pass a valset, or nothing can be compared"
            )
        return cls(trainset=trainset, valset=valset, labels=labels, stratify=stratify)

    def identity(self, settings: CompileSettings, optimizer: Optimizer) -> dict:
        """What a resumed run must share with the run it resumes (run_identity.py)."""
        return run_identity.identity(
            seed=settings.seed, samples_per_label=settings.samples_per_label, trainset=self.trainset,
            valset=self.valset, optimizer=optimizer,
        )  # fmt: skip


@attrs.define
class Run:
    """One compile: the student program, its history, what was spent. `start`, a `step` per iteration, `finish`."""

    settings: CompileSettings
    data: TrainingData
    student: Program  # a copy: the program compile was given is never changed
    lm: LM
    optimizer: Optimizer
    optimizer_model: str  # what the optimizer's own calls are priced at
    ledger: Ledger
    history: list[IterationRecord] = attrs.field(factory=list)
    stopped: str | None = None  # why the run ended early (a budget, or the optimizer stopped), if it did
    rollouts: Rollouts = attrs.field(init=False)  # the forward calls sent, through a counting `lm`

    def __attrs_post_init__(self) -> None:
        self.rollouts = Rollouts.plan(self._plan(), self.lm, self.settings.max_metric_calls)

    @classmethod
    def prepare(
        cls,
        program: Program,
        *,
        trainset: Sequence[Example],
        valset: Sequence[Example] | None,
        lm: LM,
        optimizer: object,
        ledger: Ledger | None,
        settings: CompileSettings,
    ) -> Run:
        """The run, its arguments checked first (a bare module is trained as Program.of(module))."""
        program = as_program(program)
        check_lm(lm)
        wrapped = as_optimizer(optimizer)
        ids = settings.run_dir is not None  # the checkpoint keeps scores by example id
        trainset = checked_examples(trainset, name="trainset", inputs=program.inputs, ids=ids)
        if valset is not None:
            valset = checked_examples(valset, name="valset", inputs=program.inputs, ids=ids)
            refuse_shared_examples(trainset, valset)
        data = TrainingData.split(program, trainset, valset, settings)
        if valset is None:  # said here, once per run (the CLI's baseline makes the same split again, quietly)
            _say_if_short(data.valset, settings.val_per_label, stratify=data.stratify)
        return cls(
            settings=settings,
            data=data,
            student=_student(program, settings),
            lm=lm,
            optimizer=wrapped,
            optimizer_model=wrapped.called_model() or lm.model,  # an optimizer that calls no model is priced at lm's
            ledger=ledger if ledger is not None else Ledger(),
        )

    def __repr__(self) -> str:
        done = self.history[-1].iteration if self.history else None
        last = self.settings.iterations if self.settings.iterations is not None else "the budget"
        return f"Run(iteration={done} of {last}, {cost_text(self.ledger.accounts())})"

    @property
    def next_iteration(self) -> int:
        return self.history[-1].iteration + 1

    def start(self) -> None:
        """Resume from the run directory, or validate the program as given (iteration 0)."""
        if self.settings.run_dir is not None and not (self.settings.resume or self.settings.overwrite):
            checkpoint.refuse_replacing(self.settings.run_dir)  # before anything is paid
        self._ask_before_paying()
        self._check_before_paying()
        self._check_rollouts()
        saved = self._refuse_another_run() if self.settings.resume else None  # before the probe: nothing is sent
        # One 1-token request per server before the first pass: a wrong key fails now, not in ten failed calls.
        preflight(self.lm, getattr(self.optimizer, "lm", None))
        if saved is not None:
            self._resume(saved)
            return
        run_dir = self.settings.run_dir
        if run_dir is not None:  # every paid call is journaled, so a killed iteration's calls are counted on resume
            run_dir.mkdir(parents=True, exist_ok=True)
            self.ledger.journal_to(run_dir / checkpoint.JOURNAL)
        val, val_samples = self._validate()
        self.history.append(self._record(iteration=0, val=val, val_samples=val_samples))
        logger.info("iteration 0: validation %.3f (the program as given)", self.history[0].val.score)
        self.optimizer.validated(0, self.student, self.history[0].val)
        self._finished()

    def _ask_before_paying(self) -> None:
        """An on_iteration with a `before_run` may refuse the run before any call (a ReportWriter refuses to
        write over another run's report); a resumed run carries on its own files, overwrite=True replaces them."""
        ask_before_run(self.settings.on_iteration, resume=self.settings.resume, overwrite=self.settings.overwrite)

    def _check_before_paying(self) -> None:
        """Refused before any call: a metric that cannot score a right answer, an optimizer with nothing to
        train (unless no iteration is asked for), a budget in dollars that may not pay for iteration 0's
        validation (a resumed run has paid for it)."""
        per_label = PROBES_PER_LABEL if self.data.stratify else PROBES
        check_metric(
            self.settings.metric,
            stratified_sample(self.data.valset, per_label, seed=self.settings.seed, stratify=self.data.stratify),
            as_answer=functools.partial(as_answer, self.student),
            modules=module_names(self.student),
        )
        why = self.optimizer.cannot_train(self.student) if self.settings.iterations != 0 else None
        if why is not None:
            raise NothingToTrain(
                f"nothing to train: {why}; make some trainable (parameter.trainable = True), "
                "or pass iterations=0 to score the program as it is"
            )
        if not self.settings.resume:
            batched = self.settings.batching is not None
            said = usd_may_not_pay(self._plan(), self.settings.budget_usd, batched=batched)
            if said is not None:
                logger.warning("%s", said)

    def _check_rollouts(self) -> None:
        """A forward-call budget that cannot pay for iteration 0's validation and one iteration (when one is
        asked for) is refused before any call: such a run would pay for validation and train nothing."""
        limit, validation = self.rollouts.limit, self.rollouts.validation
        if limit is None:
            return
        if not self.settings.resume:  # a resumed run has paid for its validation already
            refusal = unaffordable(self._plan(), self.settings.max_metric_calls, iterations=self.settings.iterations)
            if refusal is not None:
                raise ValueError(refusal)
        logger.info(
            "max_metric_calls %s: %d forward calls (%.1f validation passes)",
            self.settings.max_metric_calls,
            limit,
            limit / validation,
        )

    def goes_on(self) -> bool:
        """Whether another iteration runs: one is left, the optimizer has not stopped, the budget allows it."""
        last = self.settings.iterations
        if self.stopped is not None or (last is not None and self.next_iteration > last):
            return False
        return self.affordable(self.next_iteration)

    def affordable(self, iteration: int) -> bool:
        """False (and `stopped` says why) when the iteration would likely take the run over its budget."""
        budget = self.settings.budget_usd
        if budget is None:
            return True
        estimate = next_cost(self.history, self._plan())
        if self.ledger.usd + estimate <= budget:
            return True
        self.stopped = (
            f"budget: spent ${self.ledger.usd:.4f} of ${budget:.4f}; iteration {iteration} would cost "
            f"about ${estimate:.4f} more"
        )
        logger.info("stopping before iteration %d for the %s", iteration, self.stopped)
        return False

    def step(self, iteration: int) -> None:
        """Sample, run, score; let the optimizer change the program; validate; keep it or undo it."""
        context = self._context(iteration=iteration, seed=self.settings.seed * 1000 + iteration)
        minibatch = self._minibatch(context)
        start = self._same_texts(self.student.values(), self.student.demo_values())  # the optimizer may pick a parent
        self.stopped = self.rollouts.refusal(iteration, len(minibatch))
        if self.stopped is not None:
            logger.info("stopping before iteration %d for the %s", iteration, self.stopped)
            return
        traces = self._run(minibatch, "forward")
        train = evaluate(traces, metric=self.settings.metric, labels=self.data.labels)
        result = StepResult()  # with no mistake to learn from, nothing is spent on critique or rewrite
        if train.score < 1.0 or not minibatch:  # no minibatch: the optimizer's step needs none (a merge)
            result = self.optimizer.step(self.student, traces=traces, evaluation=train, context=context)
        val, validated_in, val_samples = self._validation()
        self.optimizer.validated(iteration, self.student, val)
        best_so_far = self.history[best_iteration(self.history)]
        kept = not (self.settings.revert_worse and val.score < best_so_far.val.score)
        record = self._record(
            iteration=iteration, val=val, train=train if minibatch else None, step=result, samples=tuple(traces), kept=kept,
            validated_in=validated_in, val_samples=val_samples,
            started_from=start.iteration if start is not None else None,
        )  # fmt: skip
        self.history.append(record)
        reused = (
            "" if validated_in is None else f" (same texts and demos as iteration {validated_in}: not validated again)"
        )
        logger.info(
            "iteration %d: validation %.3f%s (%s, best before %.3f): %s",
            iteration, val.score, reused, f"training {train.score:.3f}" if minibatch else "no training minibatch",
            best_so_far.val.score,
            "kept" if kept else f"undone, training goes on from iteration {best_so_far.iteration}",
        )  # fmt: skip
        if not kept:
            self._undo(record, best_so_far)
        if result.stopped is not None:
            self.stopped = result.stopped
            logger.info("the optimizer stopped after iteration %d: %s", iteration, result.stopped)
        self._finished()

    def finish(self) -> CompileResult:
        """Put the best iteration's texts in the program and say how the run went."""
        self.ledger.close_journal()
        best = best_iteration(self.history)
        _restore(self.student, self.history[best])
        self.student.meta = self.student.meta | {  # the user's own keys stay; compile's record replaces an older one
            "best_iteration": best,
            "stopped": self.stopped,
            "metrics": self.history[best].val.to_dict(),
            "cost": self.ledger.to_dict() | {"usd": self.ledger.usd},
            "history": [record.to_dict() for record in self.history],
        }
        return CompileResult(
            program=self.student,
            history=tuple(self.history),
            ledger=self.ledger,
            best_iteration=best,
            stopped=self.stopped,
        )

    def _undo(self, record: IterationRecord, best: IterationRecord) -> None:
        """Train on from the best program; tell the optimizer which texts were taken out, if any were."""
        _restore(self.student, best)
        taken_out = {name: value for name, value in record.values.items() if best.values[name] != value}
        if taken_out:  # only the demos went back: no text of the step lost
            self.optimizer.undone(taken_out)

    def _run(self, examples: Sequence[Example], tag: str) -> list[Trace]:
        traces = self.student.run(
            examples, lm=self.rollouts.lm, ledger=self.ledger, tag=tag, progress=self.settings.progress,
            executor=Labelled(executor_for(self.settings.batching), self._label()),
        )  # fmt: skip
        failed = [trace for trace in traces if trace.status == FAILED]
        limit = self.settings.max_failure_rate
        if traces and len(failed) / len(traces) > limit:
            run_dir = self.settings.run_dir
            resumable = run_dir is not None and (run_dir / checkpoint.FILE).exists()
            where = f"; the checkpoint in {run_dir} lets you resume once it is fixed" if resumable else ""
            raise TrainingError(
                f"{len(failed)} of {len(traces)} {tag} calls failed (more than {limit:.0%}), so training "
                f"stopped rather than learn from garbage. First error: {failed[0].final.outcome.root_error}{where}"
            )
        return traces

    def _minibatch(self, context: StepContext) -> Sequence[Example]:
        """The optimizer's examples for this step if it chose some, else a stratified sample of the trainset."""
        chosen = self.optimizer.begin_step(self.student, context)
        if chosen is not None:
            return chosen
        settings = self.settings
        return stratified_sample(
            self.data.trainset, settings.samples_per_label, seed=context.seed, stratify=self.data.stratify
        )

    def _validation(self) -> tuple[Evaluation, int | None, tuple[Trace, ...]]:
        """The program's validation score, the iteration whose pass it is when an earlier one had the same
        texts and demos (that pass is reused: nothing is sent) or None when it was validated now, and its traces."""
        same = self._same_texts(self.student.values(), self.student.demo_values())
        if same is not None:
            return same.val, same.iteration if same.validated_in is None else same.validated_in, same.val_samples
        val, traces = self._validate()
        return val, None, traces

    def _same_texts(self, values: dict[str, str], demos: dict) -> IterationRecord | None:
        """The latest iteration whose program had these texts and demos."""
        return next((r for r in reversed(self.history) if r.values == values and r.demos == demos), None)

    def _validate(self) -> tuple[Evaluation, tuple[Trace, ...]]:
        traces = tuple(self._run(self.data.valset, "validate"))
        evaluation = evaluate(traces, metric=self.settings.metric, labels=self.data.labels)
        check_feedback_modules(self.student, evaluation)  # a misspelled Score(module=) found before any training
        return evaluation, traces

    def _context(self, *, iteration: int, seed: int) -> StepContext:
        return StepContext(
            lm=self.rollouts.lm,
            ledger=self.ledger,
            metric=self.settings.metric,
            labels=self.data.labels,
            trainset=self.data.trainset,
            seed=seed,
            progress=self.settings.progress,
            stratify=self.data.stratify,
            batch=self.settings.batching,
            iteration=iteration,
            run_seed=self.settings.seed,
            label=self._label(),
        )

    def _label(self) -> str:
        """The iteration under way, for progress bars: "iteration 2/5" (0 before the first step)."""
        return iteration_label(self.next_iteration if self.history else 0, self.settings.iterations)

    def _record(
        self,
        *,
        iteration: int,
        val: Evaluation,
        train: Evaluation | None = None,
        step: StepResult | None = None,
        samples: tuple[Trace, ...] = (),
        kept: bool = True,
        validated_in: int | None = None,
        val_samples: tuple[Trace, ...] = (),
        started_from: int | None = None,
    ) -> IterationRecord:
        """The iteration as it stands now: the program's texts and demos, and what was spent so far."""
        step = step if step is not None else StepResult()
        calls: dict[str, int] = {}
        for account in self.ledger.accounts():
            calls[account.tag] = calls.get(account.tag, 0) + account.calls
        return IterationRecord(
            iteration=iteration,
            val=val,
            train=train,
            critiques=step.critiques,
            updates=step.updates,
            tried=step.tried,
            samples=samples,
            kept=kept,
            values=self.student.values(),
            demos=self.student.demo_values(),
            usd=self.ledger.usd,
            calls=calls,
            validated_in=validated_in,
            stopped=step.stopped,
            rollouts=self.rollouts.spent,
            val_samples=val_samples,
            started_from=started_from,
            no_minibatch=step.no_minibatch if train is None else None,  # a chain's other step may have taken one
        )

    def _plan(self) -> IterationPlan:
        return IterationPlan(
            program=self.student,
            trainset=self.data.trainset,
            valset_size=len(self.data.valset),
            samples_per_label=self.settings.samples_per_label,
            optimizer=self.optimizer,
            forward_model=self.lm.model,
            optimizer_model=self.optimizer_model,
        )

    def _finished(self) -> None:
        """Checkpoint the iteration just finished, and tell the caller."""
        run_dir = self.settings.run_dir
        if run_dir is not None:
            checkpoint.write(
                run_dir,
                iteration=self.history[-1].iteration,
                program=self.student,
                history=[record.to_dict(outputs=True) for record in self.history],
                ledger=self.ledger,
                settings=self.data.identity(self.settings, self.optimizer),
                optimizer_state=self.optimizer.state(),
            )
        if self.settings.on_iteration:
            self.settings.on_iteration(self.history, self.ledger, self.student)

    def _refuse_another_run(self) -> checkpoint.Checkpoint:
        """The checkpoint to resume from, when it is this run's: another program, data or optimizer is refused."""
        saved = checkpoint.read(self.settings.run_dir)
        identity = self.data.identity(self.settings, self.optimizer)
        refused = run_identity.refusal(
            str(self.settings.run_dir), saved.settings, identity, saved.program, self.student.to_dict()
        )
        if refused is not None:  # before anything is sent or changed
            raise run_identity.ResumeMismatch(refused)
        return saved

    def _resume(self, saved: checkpoint.Checkpoint) -> None:
        """The program, ledger, history and optimizer memory of the last finished iteration."""
        run_dir = self.settings.run_dir
        if saved.optimizer_state is not None:  # first: a checkpoint too old to name its optimizer may not fit this one
            self._restore_optimizer(saved.optimizer_state)
        values_from_dict(self.student, saved.program, str(run_dir / checkpoint.FILE))
        for account in saved.ledger.accounts():
            self.ledger.restore(account)
        self.ledger.journal_to(run_dir / checkpoint.JOURNAL, counted=saved.journal_lines)
        self.history = [IterationRecord.from_dict(record) for record in saved.history]
        self.stopped = self.history[-1].stopped  # an optimizer that stopped is not asked again
        self.rollouts.restore(self.history[-1].rollouts or 0)

    def _restore_optimizer(self, state: dict) -> None:
        try:
            self.optimizer.restore(state)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            kind = run_identity.optimizer_kind(self.optimizer)
            raise run_identity.ResumeMismatch(
                f"{self.settings.run_dir}'s optimizer memory does not fit a {kind} ({type(error).__name__}: {error}): "
                "it was another optimizer; resume with the optimizer the run was started with, or start a new run "
                "directory"
            ) from None


@contextlib.contextmanager
def _saying_how_to_resume(run_dir: Path | None) -> Iterator[None]:
    """An interrupted compile (Ctrl-C, or a callback that raises KeyboardInterrupt) says in one log line how
    to carry on, or how to make the next run resumable, then lets the interrupt go on."""
    try:
        yield
    except KeyboardInterrupt:
        if run_dir is None:
            logger.warning(
                "compile interrupted; it cannot be resumed: pass run_dir= to checkpoint every finished iteration "
                "there, so an interrupted run can carry on with resume=True"
            )
        else:
            resume = f"compile(..., run_dir={str(run_dir)!r}, resume=True)"
            logger.warning(
                "compile interrupted%s", checkpoint.how_to_go_on(run_dir, resume=resume, again="the same compile")
            )
        raise


def _restore(program: Program, record: IterationRecord) -> None:
    """Put back the texts and demos of an earlier iteration (each change kept in the histories)."""
    for name, parameter in program.named_parameters():
        if parameter.value != record.values[name]:
            parameter.update(record.values[name])
    for name, demos in program.named_demos():
        if demos.pairs != record.demos[name]:
            demos.update(record.demos[name])


def _say_if_short(valset: Sequence[Example], per_label: int, *, stratify: bool) -> None:
    """A held-out split smaller than asked is said, with why: at most half of a label is held out."""
    counts = Counter(example.label for example in valset) if stratify else Counter({"all": len(valset)})
    short = sorted(label for label, count in counts.items() if count < per_label)
    if short:
        logger.warning(
            "validating on %d examples, not %d per label: at most half of a label's examples are held out, and %s "
            "had too few; add examples or pass a valset for a steadier choice of the best iteration",
            len(valset),
            per_label,
            ", ".join(map(repr, short)),
        )


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
