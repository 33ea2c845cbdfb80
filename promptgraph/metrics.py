"""Scoring a run: a per-example metric, accuracy, per-label precision/recall/F1, confusion.

An unparsed or failed example scores 0 and is counted in its own confusion column, so
a prompt that stops producing readable answers can never look better for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from promptgraph.data import Example
from promptgraph.trace import FAILED, OK, UNPARSED, Trace

Metric = Callable[[Example, Any], float]


def exact_match(example: Example, prediction: Any) -> float:
    return 1.0 if prediction == example.label else 0.0


@attrs.frozen
class LabelScores:
    precision: float
    recall: float
    f1: float
    support: int


@attrs.frozen
class Evaluation:
    count: int
    score: float  # mean of the metric; unparsed and failed examples score 0
    labels: tuple[str, ...]
    per_label: dict[str, LabelScores]
    confusion: dict[str, dict[str, int]]  # true label -> predicted label, "unparsed" or "failed" -> count
    unparsed: int
    failed: int
    scores: tuple[float, ...]  # per example, in trace order

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
    scores = tuple(metric(t.example, t.prediction) if t.status == OK else 0.0 for t in traces)
    labels = tuple(labels) or tuple(dict.fromkeys(t.example.label for t in traces if t.example.label is not None))
    columns = (*labels, UNPARSED, FAILED)
    confusion = {label: dict.fromkeys(columns, 0) for label in labels}
    for trace in traces:
        truth = trace.example.label
        if truth not in confusion:
            continue
        column = trace.status if trace.status != OK else trace.prediction
        if column not in confusion[truth]:  # a label the classifier was not told about
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
    )
