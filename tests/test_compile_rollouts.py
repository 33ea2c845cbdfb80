"""compile(max_metric_calls=...): the run's forward calls (rollouts) never pass the cap; it stops before
an iteration that could; the count survives a resume and does not depend on the cache."""

import logging

import pytest

import promptgraph as pg
from promptgraph.optimizers.base import Optimizer, StepResult
from tests.scenario import classifier, forward_lm, optimizer_lm, questions

VALIDATION = 12  # 6 per label, one module
MINIBATCH = 16  # 8 per label


def train(forward=None, optimizer=None, **options):
    options = {"samples_per_label": 8, "val_per_label": 6, "progress": False} | options
    return pg.compile(
        classifier(),
        trainset=questions(60),
        lm=forward or forward_lm(),
        optimizer=optimizer or pg.TextualGradientDescent(lm=optimizer_lm()),
        **options,
    )


def test_the_forward_calls_never_pass_max_metric_calls():
    for budget in (40, 45, 70, 101, 150):
        forward = forward_lm()
        result = train(forward, iterations=None, max_metric_calls=budget)
        assert len(forward.requests) <= budget
        assert result.history[-1].rollouts == len(forward.requests)
        assert result.stopped.startswith("max_metric_calls: ")


def test_compile_stops_before_an_iteration_whose_bound_would_pass_the_budget():
    result = train(iterations=None, max_metric_calls=VALIDATION + MINIBATCH + VALIDATION)
    assert [record.rollouts for record in result.history] == [12, 40]
    assert result.stopped == "max_metric_calls: spent 40 of 40; iteration 2 could take up to 28 more"


class Scores(Optimizer):
    """Estimates forward calls of its own each step (and makes none)."""

    def step(self, program, *, traces, evaluation, context):
        return StepResult()

    def estimate(self, shape):
        return [shape.forward("scoring", 10 * shape.steps)]


def test_the_bound_holds_the_optimizers_estimated_forward_calls():
    # validation (12) + minibatch (16) + scoring (10) + validation (12) > 38: no iteration fits
    with pytest.raises(ValueError, match="each could take up to 38 more"):
        train(optimizer=Scores(), iterations=None, max_metric_calls=VALIDATION + MINIBATCH + 10)


def test_a_resumed_run_counts_on_from_the_checkpoint(tmp_path):
    whole = train(iterations=2, max_metric_calls=1000)
    train(iterations=1, max_metric_calls=1000, run_dir=tmp_path)
    resumed = train(iterations=2, max_metric_calls=1000, run_dir=tmp_path, resume=True)
    assert [record.rollouts for record in resumed.history] == [record.rollouts for record in whole.history]


def test_cache_hits_count_so_a_cached_run_takes_the_same_path(tmp_path):
    first = train(pg.CachedLM(forward_lm(), directory=tmp_path), iterations=None, max_metric_calls=70)
    inner = forward_lm()
    again = train(pg.CachedLM(inner, directory=tmp_path), iterations=None, max_metric_calls=70)
    assert inner.requests == []  # every answer came from the cache
    assert [r.rollouts for r in again.history] == [r.rollouts for r in first.history]
    assert again.stopped == first.stopped


def test_light_medium_and_heavy_are_validation_passes_and_the_log_says_how_many_calls(caplog):
    with caplog.at_level(logging.INFO, logger="promptgraph.compile"):
        result = train(iterations=None, max_metric_calls="light")
    assert "max_metric_calls light: 96 forward calls" in caplog.text
    assert result.history[-1].rollouts <= 8 * VALIDATION


def test_every_run_counts_its_rollouts_even_without_a_budget():
    forward = forward_lm()
    result = train(forward, iterations=1)
    assert result.history[-1].rollouts == len(forward.requests)
    assert pg.IterationRecord.from_dict(result.history[-1].to_dict()).rollouts == len(forward.requests)


def test_with_a_budget_and_no_iterations_given_the_budget_ends_the_run_as_in_dspy():
    result = train(max_metric_calls=400)
    assert len(result.history) > 6  # more than the 5 steps a run without a budget takes
    assert result.stopped.startswith("max_metric_calls: ")


def test_with_neither_iterations_nor_a_budget_a_run_takes_5_steps():
    assert len(train().history) == 6


def test_a_budget_below_one_validation_pass_is_refused_before_any_call():
    forward = forward_lm()
    with pytest.raises(ValueError, match="cannot pay for one validation pass"):
        train(forward, max_metric_calls=VALIDATION - 1)
    assert forward.requests == []


def test_a_budget_that_pays_for_validation_but_no_iteration_is_refused_before_any_call():
    forward = forward_lm()
    with pytest.raises(
        ValueError, match=r"no iteration after it \(each could take up to 28 more\): raise it to at least 40"
    ):
        train(forward, iterations=None, max_metric_calls=VALIDATION + MINIBATCH + VALIDATION - 1)
    assert forward.requests == []


def test_a_budget_for_validation_alone_is_fine_when_no_iteration_is_asked_for():
    result = train(iterations=0, max_metric_calls=VALIDATION)
    assert [record.rollouts for record in result.history] == [VALIDATION]


@pytest.mark.parametrize("budget", ["lots", 0, 2.5, True])
def test_a_budget_that_is_not_one_is_refused(budget):
    with pytest.raises(ValueError, match="max_metric_calls must"):
        train(max_metric_calls=budget)


def test_calls_sent_through_message_batches_count_as_they_would_on_threads():
    from promptgraph.lm import AnthropicLM
    from promptgraph.testing import MessagesServer
    from tests import scenario

    threaded = train(iterations=None, max_metric_calls=70)
    with MessagesServer(scenario.world, batch_seconds=0.02) as server:
        forward = AnthropicLM(base_url=server.base_url, api_key="test", max_retries=0, layer_retries=0)
        batched = train(forward, iterations=None, max_metric_calls=70, batch=pg.Batching(poll_seconds=0.02))
        sent = sum(batch.size for batch in server.batches.values())
    assert server.batches  # the forward calls went in batches
    assert [r.rollouts for r in batched.history] == [r.rollouts for r in threaded.history]
    assert batched.stopped == threaded.stopped
    assert sent <= batched.history[-1].rollouts <= 70
