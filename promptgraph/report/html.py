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
from collections.abc import Sequence
from pathlib import Path

import attrs
import jinja2

from promptgraph.backward import Critique
from promptgraph.compile import IterationRecord, best_iteration
from promptgraph.lm import Ledger
from promptgraph.lm.files import atomic_write
from promptgraph.modules import Prompt
from promptgraph.optimizers.tgd import Update
from promptgraph.program import Program
from promptgraph.report.candidates import candidates
from promptgraph.report.svg import chart, graph, node_kind
from promptgraph.trace import Trace

SAME, INSERTED, DELETED = "same", "ins", "del"


@attrs.frozen
class Sample:
    trace: Trace
    right: bool
    feedback: str = ""  # what the metric said of the answer


@attrs.frozen
class IterationView:
    """One iteration as the template shows it."""

    record: IterationRecord
    best: bool
    diffs: dict[str, tuple[tuple[str, str], ...]]  # parameter name -> runs of (kind, text)
    changed: tuple[str, ...]  # parameters whose value differs from the previous iteration's
    samples: tuple[Sample, ...]

    @property
    def mistakes(self) -> tuple[Sample, ...]:
        return tuple(sample for sample in self.samples if not sample.right)


@attrs.frozen
class ModuleStep:
    """What one module was told in one training iteration, and what became of its texts."""

    iteration: int
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
) -> Path:
    """Write `directory/index.html` for the run so far and return its path.

    With the `program`, the page also draws its graph, and for a program of several
    modules, follows each module through the iterations.
    """
    if not history:
        raise ValueError("the history is empty; call write_report after at least iteration 0 has run")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
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
        iterations=[
            _view(record, history[index - 1] if index else None, best == index) for index, record in enumerate(history)
        ],
    )
    # A browser refreshing mid-run never sees half a page.
    return atomic_write(directory / "index.html", page)


@attrs.define
class ReportWriter:
    """Use as `compile(..., on_iteration=ReportWriter(Path("runs/today")))`."""

    directory: Path = attrs.field(converter=Path)
    title: str = "promptgraph run"

    def __call__(self, history: Sequence[IterationRecord], ledger: Ledger, program: Program | None = None) -> None:
        write_report(history, ledger, self.directory, title=self.title, program=program)


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


def _view(record: IterationRecord, previous: IterationRecord | None, best: bool) -> IterationView:
    before = previous.values if previous else record.values
    diffs = {name: word_diff(before.get(name, ""), value) for name, value in record.values.items()}
    changed = tuple(name for name, value in record.values.items() if value != before.get(name, ""))
    scores = record.train.scores if record.train else ()
    feedback = record.train.feedback if record.train else ()
    # scores are per sample in sample order; a sample without a score counts as wrong
    samples = tuple(
        Sample(
            trace=trace,
            right=index < len(scores) and scores[index] >= 1.0,
            feedback=feedback[index] if index < len(feedback) else "",
        )
        for index, trace in enumerate(record.samples)
    )
    return IterationView(record=record, best=best, diffs=diffs, changed=changed, samples=samples)


def _modules(program: Program, history: Sequence[IterationRecord]) -> tuple[ModuleView, ...]:
    views = []
    for node in program.order():
        module, mine = program.nodes[node], f"{node}."
        steps = []
        for previous, record in zip(history[:-1], history[1:], strict=True):
            changed = {
                name: word_diff(previous.values.get(name, ""), value)
                for name, value in record.values.items()
                if name.startswith(mine) and value != previous.values.get(name, "")
            }
            critique = next((critique for critique in record.critiques if critique.node == node), None)
            update = next((update for update in record.updates if update.node == node), None)
            steps.append(ModuleStep(record.iteration, bool(record.critiques), critique, update, changed))
        answers = program.output.startswith(mine)
        views.append(
            ModuleView(node, type(module).__name__, node_kind(module), program.wiring(node), answers, tuple(steps))
        )
    return tuple(views)


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
