"""A run that stops on failed calls says how to resume only when there is a checkpoint to resume from."""

import pytest

import promptgraph as pg
from promptgraph.compile import TrainingError
from promptgraph.lm import LMError
from tests.scenario import classifier, forward_reply, optimizer_lm, questions


def failing_after(good_calls: int):
    seen = []

    def respond(request):
        seen.append(request)
        if len(seen) > good_calls:
            raise LMError("the server is down")
        return forward_reply(request)

    return pg.ScriptedLM(respond=respond, model="claude-haiku-5-5")


def train(lm, run_dir):
    return pg.compile(
        classifier(""),
        trainset=questions(40),
        lm=lm,
        optimizer=pg.TextualGradientDescent(lm=optimizer_lm()),
        iterations=2,
        samples_per_label=6,
        val_per_label=4,
        progress=False,
        run_dir=run_dir,
    )


def test_failing_before_the_first_checkpoint_does_not_promise_a_resume(tmp_path):
    with pytest.raises(TrainingError) as caught:
        train(failing_after(0), tmp_path / "run")
    assert "resume" not in str(caught.value)


def test_failing_after_a_checkpoint_says_it_lets_you_resume(tmp_path):
    with pytest.raises(TrainingError, match="checkpoint in .* lets you resume"):
        train(failing_after(8), tmp_path / "run")  # the first validation (8 calls) succeeds
