"""A run that stops on failed calls says how to resume only when there is a checkpoint to resume from."""

import pytest

import promptgraph as pg
from promptgraph.compile import TrainingError
from promptgraph.lm import LMError
from tests.scenario import (
    chain,
    chain_forward,
    classifier,
    forward_reply,
    graph_optimizer_lm,
    optimizer_lm,
    questions,
)


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


def refused_key_at_the_first_module(request):
    if "<note>" in request.messages[-1].content:
        raise LMError("the API answered 401 (authentication_error): invalid x-api-key; check ANTHROPIC_API_KEY")
    return chain_forward(request)


def test_a_downstream_failure_names_the_upstream_error_that_caused_it():
    with pytest.raises(TrainingError) as caught:
        pg.compile(
            chain(),
            trainset=questions(40),
            lm=pg.ScriptedLM(respond=refused_key_at_the_first_module),
            optimizer=pg.TextualGradientDescent(lm=optimizer_lm()),
            iterations=1,
            samples_per_label=6,
            val_per_label=4,
            progress=False,
        )
    assert "First error: 'note' failed: the API answered 401" in str(caught.value)
    assert "check ANTHROPIC_API_KEY" in str(caught.value)


def compile_against(server):
    from promptgraph.lm import AnthropicLM

    return pg.compile(
        chain(),
        trainset=questions(40),
        lm=AnthropicLM(model="claude-haiku-5-5", base_url=server.base_url, api_key="wrong", max_retries=0),
        optimizer=pg.TextualGradientDescent(lm=graph_optimizer_lm()),
        iterations=1,
        samples_per_label=6,
        val_per_label=4,
        progress=False,
    )


def test_compile_against_a_refused_key_fails_on_one_probe_before_any_call():
    from promptgraph.testing import MessagesServer

    with MessagesServer(chain_forward) as server:
        server.fail_always("401")
        with pytest.raises(LMError, match="a first test request failed: .*ANTHROPIC_API_KEY"):
            compile_against(server)
    assert server.probes == {"401": 1} and not server.seen


def test_compile_probes_its_server_once_then_trains():
    from promptgraph.testing import MessagesServer

    with MessagesServer(chain_forward) as server:
        compile_against(server)
    assert server.probes == {"ok": 1} and server.seen


def misaddressed(example, prediction):
    """Feedback on wrong answers only, to a module the program does not have."""
    return pg.Score(1.0) if prediction == example.label else pg.Score(0.0, feedback="x", module="clasify")


def test_a_misspelled_feedback_module_the_metric_gives_right_answers_too_is_refused_before_any_call():
    from promptgraph.metrics import MetricError

    forward, strong = pg.ScriptedLM(respond=forward_reply), optimizer_lm()
    metric = lambda example, prediction: pg.Score(1.0, module="clasify")  # noqa: E731
    with pytest.raises(MetricError, match=r"Score\(module='clasify'\) .* name one of: classify"):
        pg.compile(classifier(), trainset=questions(40), lm=forward, optimizer=pg.TextualGradientDescent(lm=strong),
                   metric=metric, iterations=1, samples_per_label=6, val_per_label=4, progress=False)  # fmt: skip
    assert not forward.requests and not strong.requests


def test_a_misspelled_feedback_module_given_only_to_wrong_answers_is_refused_after_the_first_validation_pass():
    from promptgraph.backward import FeedbackError

    forward, strong = pg.ScriptedLM(respond=forward_reply), optimizer_lm()
    metric = misaddressed
    with pytest.raises(FeedbackError, match="'clasify'"):
        pg.compile(
            classifier(),
            trainset=questions(40),
            lm=forward,
            optimizer=pg.TextualGradientDescent(lm=strong),
            metric=metric,
            iterations=1,
            samples_per_label=6,
            val_per_label=4,
            progress=False,
        )
    assert {request.tag for request in forward.requests} == {"validate"} and not strong.requests
