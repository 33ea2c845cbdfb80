"""The HTML run report: one self-contained page per run, rewritten after every iteration.

Every text that came from the dataset or a model reaches the page through Jinja2's
autoescaping. The Python side prepares only structure and numbers: which iteration is
best, word-level diff runs, which samples were right, what each module of a graph was told
and how its texts changed. The drawings' coordinates come from svg.py.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Hashable, Sequence
from pathlib import Path

import attrs
import jinja2

from promptgraph.backward import Critique
from promptgraph.compile import IterationRecord, best_iteration
from promptgraph.lm import Ledger
from promptgraph.lm.files import atomic_write
from promptgraph.metrics import Evaluation
from promptgraph.modules import Prompt
from promptgraph.optimizers.tgd import Update
from promptgraph.program import Program
from promptgraph.report.candidates import candidates
from promptgraph.report.replacing import PAGE, keep_the_page_before_a_resume, refuse_replacing
from promptgraph.report.setup import RunSetup, demo_summaries, run_settings
from promptgraph.report.svg import chart, graph, node_kind
from promptgraph.trace import FAILED, OK, UNPARSED, Trace

SAME, INSERTED, DELETED = "same", "ins", "del"


@attrs.frozen
class Sample:
    trace: Trace
    right: bool
    feedback: str = ""  # what the metric said of the answer
    label_index: int | None = None  # the true label's place among the run's labels, for the filter


@attrs.frozen
class MistakeGroup:
    """The mistakes of one confusion cell: true `truth`, answered `answer` (a label, unparsed or failed)."""

    anchor: str  # the element id its confusion cell links to
    truth: str
    answer: str
    samples: tuple[Sample, ...]


@attrs.frozen
class IterationView:
    """One iteration as the template shows it: one program (its texts, validated) and the step that made it."""

    record: IterationRecord
    best: bool
    base: int | None  # the iteration the step started from: its texts are the diff's base; None for iteration 0
    diffs: dict[str, tuple[tuple[str, str], ...]]  # parameter name -> runs of (kind, text), against `base`
    changed: tuple[str, ...]  # parameters whose value differs from the base's
    demos_changed: dict[str, str]  # demos that differ from the base's -> what they are now ("none": emptied)
    samples: tuple[Sample, ...]  # the training minibatch: replies to the texts of `base`
    train_groups: tuple[MistakeGroup, ...]
    val_groups: tuple[MistakeGroup, ...]  # the validation mistakes of this iteration's own texts

    @property
    def mistakes(self) -> tuple[Sample, ...]:
        return tuple(sample for sample in self.samples if not sample.right)

    @property
    def val_mistakes(self) -> tuple[Sample, ...]:
        return tuple(sample for group in self.val_groups for sample in group.samples)

    def cell_links(self, which: str) -> dict[tuple[str, str], str]:
        """(true label, answer) -> the anchor of that cell's mistakes, for the confusion matrix."""
        groups = self.train_groups if which == "train" else self.val_groups
        return {(group.truth, group.answer): group.anchor for group in groups}


@attrs.frozen
class ModuleStep:
    """What one module was told in one training iteration, and what became of its texts."""

    iteration: int
    base: int | None  # the iteration whose texts the step started from: the diffs' base
    critiqued: bool  # whether the iteration ran backward at all (it skips it when there was no mistake)
    critique: Critique | None  # None when no feedback reached the module
    update: Update | None
    diffs: dict[str, tuple[tuple[str, str], ...]]  # the module's changed parameters -> runs of (kind, text)


@attrs.frozen
class ModuleView:
    name: str
    type: str  # the module's class name
    kind: str  # trainable, frozen or code (see svg.node_kind)
    sources: dict[str, str]  # input field -> where it is read from
    answers: bool  # its output is the program's answer, so its critic reads the mistakes directly
    steps: tuple[ModuleStep, ...]


@attrs.frozen
class FormatView:
    module: str  # its path in the program
    signature: str
    instruction: str  # stated at the end of every message; empty when the prompts or a user's parser carry it


def formats(program: Program, prefix: str = "") -> tuple[FormatView, ...]:
    """Each prompt module's fixed answer format, nested programs' included, in the order they were added."""
    views: list[FormatView] = []
    for name, module in program.nodes.items():
        if isinstance(module, Program):
            views += formats(module, f"{prefix}{name}.")
        elif isinstance(module, Prompt):
            views.append(FormatView(f"{prefix}{name}", str(module.signature), module.format))
    return tuple(views)


def write_report(
    history: Sequence[IterationRecord],
    ledger: Ledger,
    directory: str | Path,
    *,
    title: str = "promptgraph run",
    program: Program | None = None,
    setup: RunSetup | None = None,
) -> Path:
    """Write `directory/index.html` for the run so far and return its path.

    With the `program`, the page also draws its graph, and for a program of several
    modules, follows each module through the iterations. The summary shows the run's
    settings from the `command.json` that `promptgraph compile` leaves in the run directory
    (the report directory's parent), or else what the history knows; a `setup` says what
    the run really ran on (backend, models, optimizer), in place of command.json's defaults.
    """
    if not history:
        raise ValueError("the history is empty; call write_report after at least iteration 0 has run")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    earlier_page = keep_the_page_before_a_resume(directory, history)
    best = best_iteration(history)
    page = _template().render(
        title=title,
        history=history,
        best=history[best],
        first=history[0],
        ledger=ledger,
        accounts=ledger.accounts(),
        unpriced=ledger.unpriced_models(),
        chart=chart(history),
        candidates=candidates(history),
        graph=graph(program) if program else None,
        formats=formats(program) if program else (),
        modules=_modules(program, history) if program and len(program.nodes) > 1 else (),
        iterations=[_view(history, index, best == index, program) for index in range(len(history))],
        labels=history[0].val.labels,
        settings=run_settings(directory, history, ledger, setup, program),
        demo_summaries=demo_summaries(program, history[best].demos),
        stopped=_stopped(history, program),
        cost=functools.partial(_cost, unpriced=bool(ledger.unpriced_models())),
        baseline=_baseline(program),
        earlier_page=earlier_page,
    )
    # A browser refreshing mid-run never sees half a page.
    return atomic_write(directory / PAGE, page)


def _stopped(history: Sequence[IterationRecord], program: Program | None) -> str | None:
    """Why the run ended early: its optimizer said so in the last iteration, or compile did (a budget) in the
    program's record of this run, which names as many iterations (a program given to compile may hold another's)."""
    meta = program.meta if program is not None else {}
    this_run = len(meta.get("history") or ()) == len(history)
    return history[-1].stopped or (meta.get("stopped") if this_run else None)


def _baseline(program: Program | None) -> dict | None:
    """The baseline the CLI recorded in the program (promptgraph/baseline.py's to_dict), if it did."""
    recorded = program.meta.get("baseline") if program is not None else None
    return recorded if isinstance(recorded, dict) else None


@attrs.define
class ReportWriter:
    """Use as `compile(..., on_iteration=ReportWriter(Path("runs/today")))`; `setup` says what the run runs on.

    It never writes over a page it did not write (another run's report) unless `overwrite=True`: compile asks it
    before any call is paid (`before_run`), and a writer called directly refuses at its first write. A resumed
    run's writer rewrites the run's own page (the page before the resume is kept beside it).
    """

    directory: Path = attrs.field(converter=Path)
    title: str = "promptgraph run"
    setup: RunSetup | None = None
    overwrite: bool = False  # may replace a report page it did not write
    _owns_page: bool = attrs.field(default=False, init=False, eq=False)  # it wrote the page there, or was told so

    def before_run(self, *, resume: bool, overwrite: bool) -> None:
        """Called by compile before anything is paid: a page of another run is refused now, not after iteration 0.
        compile's `resume=True` carries on the run that wrote the page; its `overwrite=True` replaces the run."""
        if resume or overwrite:
            self._owns_page = True
        elif not self.overwrite:
            refuse_replacing(self.directory)

    def __call__(self, history: Sequence[IterationRecord], ledger: Ledger, program: Program | None = None) -> None:
        resumed = any(record.restored for record in history)  # the run's own page: kept beside, not written over
        if not (self._owns_page or self.overwrite or resumed):
            refuse_replacing(self.directory)
        write_report(history, ledger, self.directory, title=self.title, program=program, setup=self.setup)
        self._owns_page = True

    def __repr__(self) -> str:
        title = f", title={self.title!r}" if self.title != "promptgraph run" else ""
        overwrite = ", overwrite=True" if self.overwrite else ""
        return f"ReportWriter('{self.directory}'{title}{overwrite})"


def word_diff(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """Runs of (kind, text), kind one of same/ins/del, comparing whitespace-split words.

    Each word keeps the whitespace after it, so line breaks survive in the rendered text,
    but only the words themselves are compared.
    """
    old_words, new_words = re.findall(r"\S+\s*", old), re.findall(r"\S+\s*", new)
    matcher = difflib.SequenceMatcher(
        None, [w.strip() for w in old_words], [w.strip() for w in new_words], autojunk=False
    )
    runs = []
    for operation, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if operation == "equal":
            runs.append((SAME, "".join(new_words[new_start:new_end])))
            continue
        if old_end > old_start:  # "replace" shows the deletion first, then the insertion
            runs.append((DELETED, "".join(old_words[old_start:old_end])))
        if new_end > new_start:
            runs.append((INSERTED, "".join(new_words[new_start:new_end])))
    return tuple(runs)


def started_from(history: Sequence[IterationRecord], index: int) -> int | None:
    """The iteration whose texts the step of `history[index]` started from (None for iteration 0).

    Recorded by compile; for a history saved before it was, the previous iteration, or the best
    before it when the previous one was undone (training went on from the best).
    """
    record = history[index]
    if index == 0:
        return None
    if record.started_from is not None:
        return record.started_from
    previous = history[index - 1]
    return previous.iteration if previous.kept else history[best_iteration(history[: index - 1])].iteration


def _view(history: Sequence[IterationRecord], index: int, best: bool, program: Program | None) -> IterationView:
    record, labels = history[index], history[0].val.labels
    base = started_from(history, index)
    start = next((earlier for earlier in history if earlier.iteration == base), record)
    diffs = {name: word_diff(start.values.get(name, ""), value) for name, value in record.values.items()}
    changed = tuple(name for name, value in record.values.items() if value != start.values.get(name, ""))
    # A step may change demos alone (knn's pool): "0 changed" texts must not read as "nothing changed".
    new_demos = {name: pairs for name, pairs in record.demos.items() if pairs != start.demos.get(name, [])}
    shown = demo_summaries(program, new_demos)
    samples = _samples(record.samples, record.train, labels) if record.train else ()
    val_samples = _samples(record.val_samples, record.val, labels)
    prefix = f"iteration-{record.iteration}"
    return IterationView(
        record=record,
        best=best,
        base=base,
        diffs=diffs,
        changed=changed,
        demos_changed={name: shown.get(name, "none") for name in new_demos},
        samples=samples,
        train_groups=_groups(samples, labels, f"{prefix}-train"),
        val_groups=_groups(val_samples, labels, f"{prefix}-val"),
    )


def _samples(traces: Sequence[Trace], evaluation: Evaluation, labels: Sequence[str]) -> tuple[Sample, ...]:
    # scores are per trace in trace order; a trace without a score counts as wrong
    scores, feedback = evaluation.scores, evaluation.feedback
    return tuple(
        Sample(
            trace=trace,
            right=index < len(scores) and scores[index] >= 1.0,
            feedback=feedback[index] if index < len(feedback) else "",
            label_index=labels.index(trace.example.label) if trace.example.label in labels else None,
        )
        for index, trace in enumerate(traces)
    )


def _groups(samples: Sequence[Sample], labels: Sequence[str], prefix: str) -> tuple[MistakeGroup, ...]:
    """The wrong samples by confusion cell, in the matrix's order (rows, then columns)."""
    cells: dict[tuple[str, str], list[Sample]] = {}
    for sample in samples:
        if not sample.right:
            cells.setdefault(_cell(sample.trace, labels), []).append(sample)
    columns = (*labels, UNPARSED, FAILED)

    def place(cell: tuple[str, str]) -> tuple[int, int]:
        truth, answer = cell
        return (
            labels.index(truth) if truth in labels else len(labels),
            columns.index(answer) if answer in columns else len(columns),
        )

    ordered = sorted(cells, key=place)
    return tuple(
        MistakeGroup(f"{prefix}-{number}", truth, answer, tuple(cells[(truth, answer)]))
        for number, (truth, answer) in enumerate(ordered)
    )


def _cell(trace: Trace, labels: Sequence[str]) -> tuple[str, str]:
    """Its confusion cell as metrics.evaluate counts it; ("", "") for a task without labels."""
    if not labels:
        return "", ""
    answer = trace.status if trace.status != OK else trace.prediction
    if not isinstance(answer, Hashable) or answer not in (*labels, UNPARSED, FAILED):
        answer = UNPARSED  # not a label it was told about
    return str(trace.example.label), str(answer)


def _modules(program: Program, history: Sequence[IterationRecord]) -> tuple[ModuleView, ...]:
    views, texts = [], {record.iteration: record.values for record in history}
    for node in program.order():
        module, mine = program.nodes[node], f"{node}."
        steps = []
        for index, record in enumerate(history[1:], start=1):
            base = started_from(history, index)
            before = texts.get(base, {})  # what the step really started from
            changed = {
                name: word_diff(before.get(name, ""), value)
                for name, value in record.values.items()
                if name.startswith(mine) and value != before.get(name, "")
            }
            critique = next((critique for critique in record.critiques if critique.node == node), None)
            update = next((update for update in record.updates if update.node == node), None)
            steps.append(
                ModuleStep(
                    iteration=record.iteration,
                    base=base,
                    critiqued=bool(record.critiques),
                    critique=critique,
                    update=update,
                    diffs=changed,
                )
            )
        answers = program.output.startswith(mine)
        views.append(
            ModuleView(node, type(module).__name__, node_kind(module), program.wiring(node), answers, tuple(steps))
        )
    return tuple(views)


def _cost(usd: float, *, unpriced: bool) -> str:
    """Dollars; "unknown" when nothing spent had a price, never "$0.0000 + unknown"."""
    if unpriced and not usd:
        return "unknown"
    return _usd(usd) + (" + unknown" if unpriced else "")


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _usd(value: float) -> str:
    return f"${value:.4f}"


@functools.cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("promptgraph.report", "templates"),
        autoescape=True,  # every template here is HTML; data and model text must never be raw
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["percent"] = _percent
    environment.filters["usd"] = _usd
    environment.globals["word_diff"] = word_diff  # the search table diffs each candidate against the step's start
    return environment.get_template("run.html.j2")
