"""The HTML run report: one self-contained page per run, rewritten after every iteration.

Every text that came from the dataset or a model reaches the page through Jinja2's
autoescaping. The Python side prepares only structure and numbers: which iteration is
best, word-level diff runs, chart coordinates, which samples were right.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import jinja2

from promptgraph.compile import IterationRecord, best_iteration
from promptgraph.lm import Ledger
from promptgraph.trace import Trace

SAME, INSERTED, DELETED = "same", "ins", "del"


@attrs.frozen
class Point:
    x: float
    y: float
    iteration: int
    value: float


@attrs.frozen
class Series:
    name: str
    colour: str
    dash: str  # SVG stroke-dasharray; "" draws a solid line
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points)


@attrs.frozen
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: tuple[Series, ...]
    y_ticks: tuple[tuple[float, str], ...]  # (y, label)
    x_ticks: tuple[tuple[float, str], ...]  # (x, label)


@attrs.frozen
class Sample:
    trace: Trace
    right: bool


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


def write_report(
    history: Sequence[IterationRecord],
    ledger: Ledger,
    directory: str | Path,
    *,
    title: str = "promptgraph run",
) -> Path:
    """Write `directory/index.html` for the run so far and return its path."""
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
        iterations=[
            _view(record, history[index - 1] if index else None, best == index) for index, record in enumerate(history)
        ],
    )
    target = directory / "index.html"
    # Write beside the target, then replace: a browser refreshing mid-run never sees half a page.
    # open(mode "x") rather than mkstemp, so the page gets the usual umask permissions, not 0600.
    temporary = directory / f".index.{os.getpid()}.{uuid.uuid4().hex}.html.tmp"
    try:
        with temporary.open("x", encoding="utf-8") as stream:
            stream.write(page)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


@attrs.define
class ReportWriter:
    """Use as `compile(..., on_iteration=ReportWriter(Path("runs/today")))`."""

    directory: Path = attrs.field(converter=Path)
    title: str = "promptgraph run"

    def __call__(self, history: Sequence[IterationRecord], ledger: Ledger) -> None:
        write_report(history, ledger, self.directory, title=self.title)


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


# Metrics drawn on the chart; a series skips the iterations where its metric is None.
# Each has its own dash pattern, so lines that coincide (often, at 1.0) stay distinguishable.
CHART_METRICS: tuple[tuple[str, str, str, Callable[[IterationRecord], float | None]], ...] = (
    ("val accuracy", "#2563eb", "", lambda record: record.val.accuracy),
    ("val macro F1", "#d97706", "7 5", lambda record: record.val.macro_f1),
    ("train accuracy", "#059669", "2 4", lambda record: record.train.accuracy if record.train else None),
)


def chart(history: Sequence[IterationRecord], *, width: int = 640, height: int = 220) -> Chart:
    """SVG coordinates for each metric over the iterations, y from 0 (bottom) to 1 (top)."""
    left, right, top, bottom = 44, 16, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    step = plot_width / (len(history) - 1) if len(history) > 1 else 0.0

    def x_of(index: int) -> float:
        return left + (index * step if len(history) > 1 else plot_width / 2)

    def y_of(value: float) -> float:
        return top + (1.0 - min(max(value, 0.0), 1.0)) * plot_height

    series = []
    for name, colour, dash, metric in CHART_METRICS:
        values = [(index, metric(record)) for index, record in enumerate(history)]
        points = tuple(
            Point(x_of(index), y_of(value), history[index].iteration, value)
            for index, value in values
            if value is not None
        )
        if points:
            series.append(Series(name, colour, dash, points))
    every = max(1, -(-len(history) // 12))  # at most about a dozen iteration labels
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        series=tuple(series),
        y_ticks=tuple((y_of(value), f"{value:.2f}") for value in (0.0, 0.25, 0.5, 0.75, 1.0)),
        x_ticks=tuple(
            (x_of(index), str(record.iteration)) for index, record in enumerate(history) if index % every == 0
        ),
    )


def _view(record: IterationRecord, previous: IterationRecord | None, best: bool) -> IterationView:
    before = previous.values if previous else record.values
    diffs = {name: word_diff(before.get(name, ""), value) for name, value in record.values.items()}
    changed = tuple(name for name, value in record.values.items() if value != before.get(name, ""))
    scores = record.train.scores if record.train else ()
    # scores are per sample in sample order; a sample without a score counts as wrong
    samples = tuple(
        Sample(trace, index < len(scores) and scores[index] >= 1.0) for index, trace in enumerate(record.samples)
    )
    return IterationView(record=record, best=best, diffs=diffs, changed=changed, samples=samples)


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
    return environment.get_template("run.html.j2")
