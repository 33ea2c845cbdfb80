"""The baseline a classifier must beat: TF-IDF + logistic regression on the same training examples.

Ten lines of scikit-learn, fitted on the training examples only (never the examples it is
scored on), tell a user at once whether the LLM program earns its cost. scikit-learn is
an optional extra (`pip install 'promptgraph[baseline]'`): without it the baseline is
skipped with a one-line note, as it is on texts it cannot be fitted on (emoji or digits
only: scikit-learn's "empty vocabulary"), which say why. It is for classification only (a program whose answer is
one of a set of labels); for any other program it says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from promptgraph.data import Example
from promptgraph.metrics import Evaluation, evaluate
from promptgraph.trace import OK, NodeTrace, Outcome, Trace

NAME = "TF-IDF + logistic regression"
MISSING = f"baseline skipped: {NAME} needs scikit-learn (pip install 'promptgraph[baseline]')"
NOT_A_CLASSIFIER = f"baseline skipped: {NAME} is for classification, and this program's answer is not a label"
CANNOT_FIT = f"baseline skipped: {NAME} cannot be fitted on the training texts"


@attrs.frozen
class Baseline:
    """The baseline's scores on some examples, or why there are none (`note`)."""

    evaluation: Evaluation | None
    trained_on: int = 0  # training examples it was fitted on
    note: str = ""  # why it was skipped, or a remark added to its line
    fit_error: str = ""  # scikit-learn's reason it could not be fitted on these texts, if it could not

    def line(self, program: Evaluation | None = None, where: str = "") -> str:
        """One line for a summary: the baseline's accuracy and macro F1, beside the program's."""
        if self.evaluation is None:
            return self.note
        scores = self.evaluation
        text = (
            f"baseline ({NAME}, fitted on {self.trained_on:,} training examples): "
            f"{where}accuracy {scores.accuracy:.3f}, macro F1 {scores.macro_f1:.3f}"
        )
        if program is not None:
            text += f"; the program: accuracy {program.accuracy:.3f}, macro F1 {program.macro_f1:.3f}"
        return text + self.note

    def to_dict(self) -> dict:
        scores = self.evaluation
        if scores is None:
            return {"name": NAME, "note": self.note}
        return {
            "name": NAME,
            "trained_on": self.trained_on,
            "count": scores.count,
            "accuracy": scores.accuracy,
            "macro_f1": scores.macro_f1,
        }


def tfidf_baseline(
    trainset: Sequence[Example], examples: Sequence[Example], *, labels: Sequence[str], inputs: Sequence[str]
) -> Baseline:
    """Fit on `trainset` (the training examples only), score on `examples`; `inputs` are the text fields read."""
    if not labels:
        return Baseline(None, note=NOT_A_CLASSIFIER)
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
    except ImportError:
        return Baseline(None, note=MISSING)
    training = [example for example in trainset if example.label is not None]
    if len({example.label for example in training}) < 2:
        return Baseline(None, note=f"baseline skipped: {NAME} needs training examples of two labels or more")
    # Word unigrams and bigrams, sublinear counts, lbfgs (deterministic): the usual strong text baseline.
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=1000))
    try:
        model.fit([_text(example, inputs) for example in training], [example.label for example in training])
        predicted = model.predict([_text(example, inputs) for example in examples]) if examples else []
    except ValueError as error:  # texts without a word ("empty vocabulary"): no baseline, never a lost run
        reason = " ".join(str(error).split())  # one line, whatever scikit-learn's message holds
        return Baseline(None, note=f"{CANNOT_FIT}: {reason}", fit_error=reason)
    traces = [_trace(example, str(label)) for example, label in zip(examples, predicted, strict=True)]
    return Baseline(evaluate(traces, labels=labels), trained_on=len(training))


def _text(example: Example, inputs: Sequence[str]) -> str:
    return " ".join(str(example.inputs[name]) for name in inputs if name in example.inputs)


def _trace(example: Example, label: str) -> Trace:
    """The baseline's answer as a trace, so it is scored exactly as the program is."""
    step = NodeTrace(node="baseline", inputs=dict(example.inputs), outcome=Outcome(OK, outputs={"label": label}))
    return Trace(example=example, nodes={"baseline": step}, output="baseline.label")
