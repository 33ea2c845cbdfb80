import pytest

from promptgraph.data import Example
from promptgraph.metrics import evaluate
from promptgraph.trace import FAILED, OK, UNPARSED, NodeTrace, Outcome, Trace


def trace(label, status, prediction=None):
    outcome = Outcome(status, outputs={"label": prediction} if status == OK else {})
    return Trace(Example({"text": "t"}, label), {"c": NodeTrace("c", {}, outcome)}, output="c.label")


def test_precision_recall_and_f1_per_label():
    traces = [trace("a", OK, "a"), trace("a", OK, "b"), trace("b", OK, "b"), trace("b", OK, "b")]
    result = evaluate(traces, labels=["a", "b"])
    assert result.accuracy == 0.75
    assert (result.per_label["a"].precision, result.per_label["a"].recall) == (1.0, 0.5)
    assert result.per_label["b"].precision == pytest.approx(2 / 3)
    assert result.per_label["b"].f1 == pytest.approx(0.8)


def test_unparsed_and_failed_are_their_own_columns_and_score_zero():
    traces = [trace("a", UNPARSED), trace("a", FAILED), trace("a", OK, "a")]
    result = evaluate(traces, labels=["a", "b"])
    assert result.confusion["a"] == {"a": 1, "b": 0, "unparsed": 1, "failed": 1}
    assert (result.unparsed, result.failed, result.accuracy) == (1, 1, pytest.approx(1 / 3))
    assert result.unparsed_rate == pytest.approx(1 / 3)


def test_an_unparsed_answer_never_counts_as_a_label():
    result = evaluate([trace("a", UNPARSED)], labels=["a", "b"])
    assert result.per_label["a"].recall == 0.0
    assert sum(result.confusion["a"][label] for label in ("a", "b")) == 0


def test_a_custom_metric_sets_the_score():
    result = evaluate(
        [trace("a", OK, "A")], metric=lambda example, prediction: float(prediction.lower() == example.label)
    )
    assert result.score == 1.0


def test_an_evaluation_repr_gives_accuracy_count_and_unparsed():
    traces = [trace("a", OK, "a"), trace("a", UNPARSED), trace("b", OK, "b"), trace("b", OK, "b")]
    assert repr(evaluate(traces, labels=["a", "b"])) == "Evaluation(accuracy=0.75, n=4, unparsed=1)"


def test_an_evaluation_repr_adds_failed_calls_when_there_are_some():
    traces = [trace("a", OK, "a"), trace("a", FAILED)]
    assert repr(evaluate(traces, labels=["a", "b"])) == "Evaluation(accuracy=0.50, n=2, unparsed=0, failed=1)"


def test_an_evaluation_repr_stays_short_over_many_examples():
    traces = [trace("a", OK, "a") for _ in range(1000)]
    assert len(repr(evaluate(traces, labels=["a", "b"]))) < 100
