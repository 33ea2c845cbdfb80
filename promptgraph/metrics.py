"""Scoring a run: a per-example metric, accuracy, per-label precision/recall/F1, confusion.

A metric returns a float or a `Score`: a float that also says, in words, what was wrong
(and, optionally, which module it is about). That text reaches the critic beside the
example, so a metric that can explain itself trains better than one that only counts.

An unparsed or failed example scores 0 and is counted in its own confusion column, so
a prompt that stops producing readable answers can never look better for it.
"""

from __future__ import annotations

import collections
import inspect
import logging
import re
import string
from collections.abc import Callable, Collection, Hashable, Sequence
from typing import Any

import attrs

from promptgraph.data import Example, is_scalar_number
from promptgraph.errors import ArgumentError, PromptgraphError
from promptgraph.lm.reprs import short
from promptgraph.signature import Field, from_text
from promptgraph.trace import FAILED, OK, UNPARSED, Prediction, Trace

logger = logging.getLogger(__name__)


class Score(float):
    """A metric's value with the reason for it: `Score(0.0, feedback="expected 'a', got 'b'")`.

    A float in every way that counts (sums, comparisons, JSON), so a metric may return a
    plain float or a Score alike. `module` names the program node the feedback is about
    (only that node's critic reads it), a nested stage's module by its dotted name
    (`stage.extract`); None means the whole program. A name that is no module is refused.
    """

    __slots__ = ("_feedback", "_module")

    def __new__(cls, value: float, feedback: str = "", module: str | None = None) -> Score:
        score = super().__new__(cls, value)
        object.__setattr__(score, "_feedback", str(feedback))
        object.__setattr__(score, "_module", module)
        return score

    @property
    def feedback(self) -> str:
        return self._feedback

    @property
    def module(self) -> str | None:
        return self._module

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Score cannot be changed; make a new one (setting {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Score cannot be changed (deleting {name!r})")

    def __reduce__(self) -> tuple:  # pickle and copy rebuild it through __new__, past the frozen __setattr__
        return (Score, (float(self), self._feedback, self._module))

    def __str__(self) -> str:  # str() and f"{score}" read as the number, as for a float
        return float.__repr__(self)

    def __repr__(self) -> str:
        parts = [float.__repr__(self)]
        parts += [f"feedback={short(self._feedback, 60)}"] if self._feedback else []
        parts += [f"module={self._module!r}"] if self._module is not None else []
        return f"Score({', '.join(parts)})"


SHOWN_CHARS = 200  # of one answer quoted in feedback
SHOWN_WORDS = 12  # missing or extra words named in token_f1's feedback

Metric = Callable[[Example, Any], "float | Score"]


class MetricError(ValueError, PromptgraphError):
    """A metric that cannot score: it raised, or gave something other than a number from 0 to 1."""


@attrs.frozen
class WithoutTrace:
    """A DSPy-style `metric(gold, pred, trace)` called as promptgraph calls a metric, with trace=None."""

    metric: Callable[[Example, Any, Any], Any]

    def __call__(self, example: Example, prediction: Any) -> Any:
        return self.metric(example, prediction, None)

    @property
    def __name__(self) -> str:
        return metric_name(self.metric)


def as_metric(metric: Callable[..., Any]) -> Metric:
    """The metric as compile calls it, `metric(example, prediction)`. One that requires a third argument, as
    DSPy's `(gold, pred, trace)` may, is given trace=None: promptgraph has no trace to pass it."""
    try:
        parameters = inspect.signature(metric).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin): called as it is
        return metric
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in parameters if p.kind in positional and p.default is inspect.Parameter.empty]
    return WithoutTrace(metric) if len(required) == 3 else metric


def metric_name(metric: Callable[..., Any]) -> str:
    """The metric as an error names it: its name, and for a function where it is defined (a lambda has no name)."""
    name = getattr(metric, "__name__", None) or repr(metric)  # not the qualname: a test's `<locals>` says nothing
    code = getattr(metric, "__code__", None)
    return f"{name} ({code.co_filename} line {code.co_firstlineno})" if code is not None else name


def _add_note(error: BaseException, note: str) -> None:
    """PEP 678's note; Python 3.10 has no add_note, and keeps the note in __notes__ (its traceback does not print it)."""
    if hasattr(error, "add_note"):
        error.add_note(note)
    else:
        error.__notes__ = [*getattr(error, "__notes__", []), note]


def score_of(metric: Metric, example: Example, prediction: Any) -> Score:
    """What the metric says of one answer, as a Score; a value that is not a number from 0 to 1 is refused."""
    try:
        value = metric(example, prediction)
    except Exception as error:
        _add_note(error, f"in the metric {metric_name(metric)}, scoring example {_named(example)}")
        raise
    problem = _not_a_score(value)
    if problem:
        raise MetricError(
            f"the metric {metric_name(metric)} returned {_shown(value)} for example {_named(example)}: {problem}"
        )
    return value if isinstance(value, Score) else Score(value)


def _not_a_score(value: Any) -> str | None:
    # Any number Python can take as a float: numpy's bool and floats too (a metric is often `pred == gold` on arrays).
    if isinstance(value, complex) or not is_scalar_number(value):
        return "a metric returns a number from 0 to 1 (1 for right) or a pg.Score"
    if not 0.0 <= float(value) <= 1.0:
        return "a metric's value is from 0 to 1 (1 for right); scale it"
    return None


def _named(example: Example) -> str:
    return repr(example.id) if example.id else repr(example)


PROBES_PER_LABEL = 1  # examples of each label the metric is tried on before a run pays
PROBES = 4  # at most, so a metric that calls a model itself costs little


def check_metric(
    metric: Metric,
    examples: Sequence[Example],
    *,
    source: str = "valset",
    as_answer: Callable[[Any], Any] = lambda label: label,
    modules: Sequence[str] | None = None,
) -> None:
    """Call the metric on a few examples with their own label as the prediction (what a right answer is
    given as, typed by `as_answer` as the program's answer is), before anything is paid: a metric that raises,
    or returns anything but a number from 0 to 1, or a Score addressed to a module not in `modules` (the names
    feedback may address), is refused in one line naming it and the example. A metric that scores even those
    0 is warned of."""
    name = metric_name(metric)
    scores = []
    for example in examples[:PROBES]:
        where = f"{source} example {_named(example)} with its own label {short(example.label)} as the prediction"
        try:
            value = metric(example, as_answer(example.label))
        except Exception as error:
            raise MetricError(
                f"the metric {name} raised {type(error).__name__}: {error} on {where}; it is called as "
                "metric(example, prediction), the prediction being the program's answer (a Classify's: the label text)"
            ) from error
        problem = _not_a_score(value)
        if problem:
            raise MetricError(f"the metric {name} returned {_shown(value)} on {where}: {problem}")
        module = getattr(value, "module", None)
        if modules is not None and module is not None and module not in modules:
            raise MetricError(
                f"the metric {name} gave a Score(module={module!r}) on {where}, and the program has no such "
                f"module; name one of: {', '.join(modules)} (or module=None for the whole program)"
            )
        scores.append(float(value))
    if scores and not any(scores):
        logger.warning(
            "the metric %s scores 0 even the expected answers of %d %s examples: does it compare the right things?",
            name,
            len(scores),
            source,
        )


def exact_match(example: Example, prediction: Any) -> Score:
    """1 for the expected answer, else 0 with feedback saying what was expected and what came back."""
    if prediction == example.label:
        return Score(1.0)
    return Score(0.0, feedback=f"expected {_shown(example.label)}, got {_shown(prediction)}")


def _shown(value: Any) -> str:
    """A value as feedback quotes it: a text in quotes, anything else as its repr; cut when long."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def token_f1(example: Example, prediction: Any) -> Score:
    """Word-overlap F1 (as SQuAD scores free-text answers); for lists, F1 over the set of items.

    Texts are compared lowercased, without punctuation or articles. The feedback names
    the words (or items) the answer missed and the ones it added; none when it scores 1.
    A list answer is compared with a list label, or with a text label read as a list
    (a JSON array, or one item a line).
    """
    if _is_list(prediction) or _is_list(example.label):
        expected, got = _items(example.label), _items(prediction)
        return _f1(
            len(expected & got), len(got), len(expected), sorted(expected - got), sorted(got - expected), "items"
        )
    expected, got = collections.Counter(_words(example.label)), collections.Counter(_words(prediction))
    same = sum((expected & got).values())
    return _f1(same, got.total(), expected.total(), list(expected - got), list(got - expected), "words")


def _f1(same: int, got: int, expected: int, missing: list[str], extra: list[str], unit: str) -> Score:
    if not got or not expected:  # nothing to overlap: right only if both are empty
        value = float(got == expected)
    else:
        precision, recall = same / got, same / expected
        value = 2 * precision * recall / (precision + recall) if same else 0.0
    if value == 1.0:
        return Score(1.0)
    parts = [f"F1 {value:.2f}"]
    parts += [f"missing {unit}: {_listed(missing)}"] if missing else []
    parts += [f"extra {unit}: {_listed(extra)}"] if extra else []
    parts += ["the answer is empty"] if not got else []
    return Score(value, feedback="; ".join(parts))


def _listed(words: list[str]) -> str:
    shown = ", ".join(_shown(word) for word in words[:SHOWN_WORDS])
    return shown + (f" and {len(words) - SHOWN_WORDS} more" if len(words) > SHOWN_WORDS else "")


def _is_list(value: Any) -> bool:
    return isinstance(value, Collection) and not isinstance(value, str | bytes | dict)


def _items(value: Any) -> set[str]:
    if value is None:
        return set()
    values = value if _is_list(value) else from_text(Field("label", list[str]), str(value))
    return {normal for item in values if (normal := _item(item))}


def _item(text: Any) -> str:
    """An item normalised as a text is, except that an item that is only an article stays itself."""
    return " ".join(_words(text) or str(text).lower().translate(_NO_PUNCTUATION).split())


def _words(text: Any) -> list[str]:
    """SQuAD's normalisation: lowercase, no punctuation, no articles, single spaces."""
    if text is None:
        return []
    text = str(text).lower().translate(_NO_PUNCTUATION)
    return re.sub(r"\b(a|an|the)\b", " ", text).split()


_NO_PUNCTUATION = str.maketrans("", "", string.punctuation)


@attrs.frozen
class LabelScores:
    precision: float
    recall: float
    f1: float
    support: int


@attrs.frozen
class Evaluation:
    """Scores of a list of traces: the mean metric (`score`, also `accuracy`), per-label precision, recall
    and F1, the confusion table, unparsed and failed counts, and the metric's score and feedback per example."""

    count: int
    score: float  # mean of the metric; unparsed and failed examples score 0
    labels: tuple[str, ...]
    per_label: dict[str, LabelScores]
    confusion: dict[str, dict[str, int]]  # true label -> predicted label, "unparsed" or "failed" -> count
    unparsed: int
    failed: int
    scores: tuple[float, ...]  # per example, in trace order; plain floats
    # What the metric said of each example ("" when nothing), and the node it is about (None: the whole program).
    # Evaluations saved before metrics gave feedback load with none.
    feedback: tuple[str, ...] = attrs.field(converter=tuple)
    feedback_modules: tuple[str | None, ...] = attrs.field(converter=tuple)

    @feedback.default
    def _no_feedback(self) -> tuple[str, ...]:
        return ("",) * len(self.scores)

    @feedback_modules.default
    def _no_modules(self) -> tuple[str | None, ...]:
        return (None,) * len(self.scores)

    @property
    def accuracy(self) -> float:
        return self.score

    @property
    def unparsed_rate(self) -> float:
        return self.unparsed / self.count if self.count else 0.0

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.per_label.values()) / len(self.per_label) if self.per_label else 0.0

    def summary(self) -> str:
        parts = [f"accuracy {self.score:.3f}", f"macro F1 {self.macro_f1:.3f}"]
        parts += [f"{label} P {s.precision:.2f} R {s.recall:.2f}" for label, s in self.per_label.items()]
        parts.append(f"unparsed {self.unparsed}/{self.count}")
        if self.failed:
            parts.append(f"failed {self.failed}")
        return ", ".join(parts)

    def to_dict(self) -> dict:
        return attrs.asdict(self)

    def __repr__(self) -> str:
        failed = f", failed={self.failed}" if self.failed else ""
        return f"Evaluation(accuracy={self.score:.2f}, n={self.count}, unparsed={self.unparsed}{failed})"


def evaluate(traces: Sequence[Trace], *, metric: Metric = exact_match, labels: Sequence[str] = ()) -> Evaluation:
    """Score `traces` with `metric` (exact_match by default): DSPy's `Evaluate`, in two calls.

    `pg.evaluate(program.run(examples, lm=lm), metric=pg.exact_match)` (predictions are taken as their
    traces); `labels=` fixes the order of the per-label scores (by default, the labels as they first appear).
    """
    traces = [_trace_of(item, index) for index, item in enumerate(traces)]
    if metric is exact_match and traces and all(trace.example.label is None for trace in traces):
        raise ArgumentError(  # every answer would score 0 against no gold label, and say nothing
            "evaluate with exact_match needs gold labels, and none of these traces' examples has one (an answer "
            "of program(...) on bare inputs has none): run the program on labelled examples, "
            "program.run([pg.Example(inputs=..., label=...), ...], lm=lm)"
        )
    metric = as_metric(metric)
    scored = [_score(metric, trace) for trace in traces]
    scores = tuple(float(score) for score in scored)
    labels = tuple(labels) or tuple(dict.fromkeys(t.example.label for t in traces if t.example.label is not None))
    columns = (*labels, UNPARSED, FAILED)
    confusion = {label: dict.fromkeys(columns, 0) for label in labels}
    for trace in traces:
        truth = trace.example.label
        if truth not in confusion:
            continue
        column = trace.status if trace.status != OK else trace.prediction
        if not isinstance(column, Hashable) or column not in confusion[truth]:  # not a label it was told about
            column = UNPARSED
        confusion[truth][column] += 1
    per_label = {}
    for label in labels:
        true_positive = confusion[label][label]
        predicted = sum(confusion[other][label] for other in labels)
        support = sum(confusion[label].values())
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = LabelScores(precision, recall, f1, support)
    return Evaluation(
        count=len(traces),
        score=sum(scores) / len(scores) if scores else 0.0,
        labels=labels,
        per_label=per_label,
        confusion=confusion,
        unparsed=sum(t.status == UNPARSED for t in traces),
        failed=sum(t.status == FAILED for t in traces),
        scores=scores,
        feedback=tuple(score.feedback for score in scored),
        feedback_modules=tuple(score.module for score in scored),
    )


def _trace_of(item: Any, index: int) -> Trace:
    if isinstance(item, Trace):
        return item
    if isinstance(item, Prediction):  # what program(...) returns: its trace holds the example and the answer
        return item.trace
    if isinstance(item, Example):
        raise ArgumentError(
            f"evaluate scores traces, not Examples (item {index} is one): run the program first, "
            "traces = program.run(examples, lm=lm), then pg.evaluate(traces, metric=...)"
        )
    raise ArgumentError(f"evaluate scores traces (what program.run returns); item {index} is a {type(item).__name__}")


def _score(metric: Metric, trace: Trace) -> Score:
    """The metric's score as a Score; an unreadable or failed answer scores 0, its feedback saying why."""
    if trace.status == OK:
        return score_of(metric, trace.example, trace.prediction)
    broken = next(step for step in trace.nodes.values() if step.status != OK)  # where it went wrong first
    what = (
        f"the reply of step {broken.node!r} could not be read"
        if broken.status == UNPARSED
        else f"step {broken.node!r} failed"
    )
    reason = f": {broken.outcome.error}" if broken.outcome.error else ""
    return Score(0.0, feedback=what + reason)
