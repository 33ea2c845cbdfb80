import sys

from promptgraph import Example
from promptgraph.baseline import CANNOT_FIT, MISSING, NOT_A_CLASSIFIER, tfidf_baseline

LABELS = ("fruit", "tool")
TRAIN = [Example({"text": f"I ate a ripe {word}"}, "fruit") for word in ("apple", "pear", "plum")] + [
    Example({"text": f"I fixed it with a {word}"}, "tool") for word in ("hammer", "wrench", "saw")
]


def test_the_baseline_learns_from_the_training_examples():
    tested = [Example({"text": "I ate a ripe apple today"}, "fruit"), Example({"text": "a hammer fixed it"}, "tool")]
    baseline = tfidf_baseline(TRAIN, tested, labels=LABELS, inputs=["text"])
    assert baseline.evaluation.accuracy == 1.0 and baseline.trained_on == 6


def test_the_baseline_is_fitted_on_the_training_examples_only():
    # Words seen only in the scored examples: fitted on them it would score 1.0; fitted on TRAIN it cannot tell.
    scored = [Example({"text": "cherry cherry"}, "fruit"), Example({"text": "chisel chisel"}, "tool")]
    baseline = tfidf_baseline(TRAIN, scored, labels=LABELS, inputs=["text"])
    assert baseline.trained_on == len(TRAIN)
    assert baseline.evaluation.accuracy == 0.5 and baseline.evaluation.count == 2


def test_its_line_stands_beside_the_programs_scores():
    baseline = tfidf_baseline(TRAIN, TRAIN, labels=LABELS, inputs=["text"])
    line = baseline.line(baseline.evaluation, where="validation ")
    assert line.startswith("baseline (TF-IDF + logistic regression, fitted on 6 training examples): validation ")
    assert "; the program: accuracy 1.000" in line


def test_without_scikit_learn_the_baseline_is_skipped_with_a_one_line_note(monkeypatch):
    for name in [name for name in sys.modules if name == "sklearn" or name.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now raises ImportError
    baseline = tfidf_baseline(TRAIN, TRAIN, labels=LABELS, inputs=["text"])
    assert baseline.evaluation is None and baseline.line() == MISSING and "\n" not in MISSING


def test_a_program_that_does_not_answer_with_a_label_is_told_the_baseline_is_for_classifiers():
    baseline = tfidf_baseline(TRAIN, TRAIN, labels=(), inputs=["text"])
    assert baseline.evaluation is None and baseline.line() == NOT_A_CLASSIFIER


def test_texts_it_cannot_fit_on_skip_the_baseline_with_scikit_learns_reason():
    # Emoji and one-digit numbers hold no word TF-IDF counts: scikit-learn's "empty vocabulary".
    emoji = [
        Example({"text": f"😀 {digit}"}, label) for digit, label in zip("1234", ["fruit", "tool"] * 2, strict=True)
    ]
    baseline = tfidf_baseline(emoji, emoji, labels=LABELS, inputs=["text"])
    assert baseline.evaluation is None and baseline.fit_error.startswith("empty vocabulary")
    assert baseline.line().startswith(f"{CANNOT_FIT}: empty vocabulary") and "\n" not in baseline.line()
