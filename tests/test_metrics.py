import copy
import json
import pickle

import pytest

import promptgraph as pg
from promptgraph import checkpoint
from promptgraph.data import Example
from promptgraph.metrics import Score, evaluate, exact_match, token_f1
from promptgraph.trace import FAILED, OK, UNPARSED, NodeTrace, Outcome, Trace


def trace(label, status, prediction=None, error=None):
    outcome = Outcome(status, outputs={"label": prediction} if status == OK else {}, error=error)
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


# -- Score: a float that says why -----------------------------------------------------


def test_a_score_is_a_float_carrying_its_feedback_and_module():
    score = Score(0.5, feedback="half right", module="classify")
    assert isinstance(score, float) and score == 0.5 and float(score) == 0.5
    assert (score.feedback, score.module) == ("half right", "classify")


def test_a_score_without_feedback_behaves_like_its_float():
    score = Score(1.0)
    assert (score.feedback, score.module) == ("", None)
    assert sum([score, Score(0.5)]) == 1.5 and score > 0.5 and hash(score) == hash(1.0)
    assert (str(score), f"{score}", f"{score:.2f}", json.dumps([score])) == ("1.0", "1.0", "1.00", "[1.0]")


def test_a_score_cannot_be_changed():
    score = Score(0.0, feedback="wrong")
    with pytest.raises(AttributeError):
        score.feedback = "right"
    with pytest.raises(AttributeError):
        score.extra = 1


def test_a_score_pickles_and_copies_with_its_feedback():
    score = Score(0.25, feedback="missing words", module="answer")
    for again in (pickle.loads(pickle.dumps(score)), copy.copy(score), copy.deepcopy(score)):
        assert (type(again), again, again.feedback, again.module) == (Score, 0.25, "missing words", "answer")


def test_a_score_repr_is_short_and_names_only_what_is_set():
    assert repr(Score(1.0)) == "Score(1.0)"
    assert repr(Score(0.0, feedback="expected 'a'")) == "Score(0.0, feedback=\"expected 'a'\")"
    assert len(repr(Score(0.0, feedback="x" * 10_000, module="c"))) < 100


def test_score_is_exported():
    assert pg.Score is Score and pg.token_f1 is token_f1


# -- feedback in an evaluation ---------------------------------------------------------


def test_evaluate_keeps_plain_float_scores_and_the_feedback_beside_them():
    def metric(example, prediction):
        return Score(0.0, feedback="no", module="c") if prediction != example.label else 1.0

    result = evaluate([trace("a", OK, "a"), trace("a", OK, "b")], metric=metric, labels=["a", "b"])
    assert result.scores == (1.0, 0.0) and all(type(score) is float for score in result.scores)
    assert (result.feedback, result.feedback_modules) == (("", "no"), (None, "c"))


def test_an_unreadable_or_failed_answer_gets_feedback_saying_why():
    traces = [trace("a", UNPARSED, error="no <label> tag"), trace("a", FAILED, error="timed out")]
    result = evaluate(traces, labels=["a", "b"])
    assert result.feedback == ("the reply of step 'c' could not be read: no <label> tag", "step 'c' failed: timed out")


def test_feedback_survives_the_dict_a_checkpoint_keeps():
    result = evaluate([trace("a", OK, "b")], labels=["a", "b"])
    assert checkpoint.evaluation_from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_an_evaluation_saved_before_feedback_loads_with_none():
    old = {  # as main wrote it before metrics gave feedback
        "count": 2,
        "score": 0.5,
        "labels": ["a", "b"],
        "per_label": {
            "a": {"precision": 1.0, "recall": 0.5, "f1": 0.6666666666666666, "support": 2},
            "b": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0},
        },
        "confusion": {"a": {"a": 1, "b": 1, "unparsed": 0, "failed": 0}},
        "unparsed": 0,
        "failed": 0,
        "scores": [1.0, 0.0],
    }
    loaded = checkpoint.evaluation_from_dict(old)
    assert loaded.scores == (1.0, 0.0) and loaded.per_label["a"].recall == 0.5
    assert (loaded.feedback, loaded.feedback_modules) == (("", ""), (None, None))


def test_a_list_answer_is_scored_and_counted_without_crashing_the_confusion():
    result = evaluate([trace("x\ny", OK, ["x", "z"])], metric=token_f1)
    assert result.score == pytest.approx(0.5) and result.confusion["x\ny"]["unparsed"] == 1


# -- the built-in metrics' feedback -----------------------------------------------------


def test_exact_match_says_what_was_expected_and_what_came_back():
    score = exact_match(Example({}, "insincere"), "sincere")
    assert (score, score.feedback) == (0.0, "expected 'insincere', got 'sincere'")


def test_exact_match_says_nothing_when_right():
    assert exact_match(Example({}, "sincere"), "sincere").feedback == ""


def test_token_f1_of_a_right_answer_is_one_whatever_the_case_punctuation_and_articles():
    score = token_f1(Example({}, "The Eiffel Tower."), "eiffel tower")
    assert (score, score.feedback) == (1.0, "")


def test_token_f1_scores_word_overlap_and_names_the_missing_and_extra_words():
    score = token_f1(Example({}, "Eiffel Tower, Paris"), "eiffel tower in london")
    assert score == pytest.approx(2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3))
    assert "missing words: 'paris'" in score.feedback and "extra words: 'in', 'london'" in score.feedback


def test_token_f1_of_an_answer_with_no_word_in_common_is_zero():
    assert token_f1(Example({}, "paris"), "london") == 0.0
    assert token_f1(Example({}, "paris"), "") == 0.0


def test_token_f1_feedback_is_clipped_on_long_answers():
    score = token_f1(Example({}, "short"), " ".join(f"word{i}" for i in range(500)))
    assert len(score.feedback) < 400 and "more" in score.feedback


def test_token_f1_on_lists_is_set_overlap_against_a_list_or_a_one_item_a_line_label():
    score = token_f1(Example({}, "red\ngreen\nblue"), ["Red", "green", "yellow", "red"])
    assert score == pytest.approx(2 / 3)
    assert "missing items: 'blue'" in score.feedback and "extra items: 'yellow'" in score.feedback
    assert token_f1(Example({}, '["a", "b"]'), ["B", "A"]) == 1.0


# -- a metric checked before a run pays, and called as promptgraph calls it -------------------------------


def test_a_dspy_metric_whose_trace_is_required_is_called_with_trace_none():
    from promptgraph.metrics import as_metric

    metric = as_metric(lambda gold, pred, trace: 1.0 if trace is None else 0.0)
    assert metric(Example({"text": "t"}, "a"), "a") == 1.0


def test_a_metric_whose_trace_has_a_default_is_called_as_it_is():
    from promptgraph.metrics import as_metric

    def dspy_metric(gold, pred, trace=None):
        return 1.0

    assert as_metric(dspy_metric) is dspy_metric


def test_evaluate_takes_a_dspy_metric_too():
    assert evaluate([trace("a", OK, "a")], metric=lambda gold, pred, trace: float(gold.label == pred)).score == 1.0


def test_check_metric_accepts_a_float_a_bool_and_a_score():
    from promptgraph.metrics import check_metric

    examples = [Example({"text": "t"}, "a", id="1")]
    for metric in (lambda e, p: 1.0, lambda e, p: p == e.label, exact_match):
        check_metric(metric, examples)


def test_check_metric_names_the_metric_and_the_example_a_metric_raised_on():
    from promptgraph.metrics import MetricError, check_metric

    def strict(example, prediction):
        raise ValueError("no such label")

    with pytest.raises(
        MetricError, match=r"the metric strict \(.*\) raised ValueError: no such label on valset example '7'"
    ):
        check_metric(strict, [Example({"text": "t"}, "a", id="7")])


def test_check_metric_refuses_nan():
    from promptgraph.metrics import MetricError, check_metric

    with pytest.raises(MetricError, match="from 0 to 1"):
        check_metric(lambda e, p: float("nan"), [Example({"text": "t"}, "a", id="7")])


def test_a_metric_that_returns_none_in_a_run_is_refused_naming_the_example():
    from promptgraph.metrics import MetricError

    traced = trace("a", OK, "b")
    with pytest.raises(MetricError, match=r"returned None for example .*: a metric returns a number"):
        evaluate([traced], metric=lambda e, p: None if p == "b" else 1.0)


def test_an_error_a_metric_raises_in_a_run_keeps_its_type_and_says_where():
    def broken(example, prediction):
        raise KeyError("x")

    with pytest.raises(KeyError) as caught:
        evaluate([trace("a", OK, "a")], metric=broken)
    assert any("in the metric broken" in note for note in caught.value.__notes__)


def test_evaluate_with_exact_match_refuses_answers_that_have_no_gold_label_rather_than_score_them_all_wrong():
    from promptgraph.errors import ArgumentError

    with pytest.raises(ArgumentError, match=r"needs gold labels, and none of these traces' examples has one"):
        evaluate([trace(None, OK, "a"), trace(None, OK, "b")])


def test_a_metric_of_its_own_may_score_answers_without_gold_labels():
    assert evaluate([trace(None, OK, "a")], metric=lambda example, prediction: float(prediction == "a")).score == 1.0


def test_evaluate_given_examples_says_to_run_the_program_first():
    from promptgraph.errors import ArgumentError

    with pytest.raises(ArgumentError, match=r"evaluate scores traces, not Examples \(item 0 is one\): run the program"):
        evaluate([Example({"text": "t"}, "a")])


def test_evaluate_takes_predictions_as_their_traces():
    from promptgraph.trace import Prediction

    assert evaluate([Prediction(trace("a", OK, "a"))]).score == 1.0
