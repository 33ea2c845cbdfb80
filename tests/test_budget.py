import pytest

import promptgraph as pg
from promptgraph.budget import CountingLM, IterationPlan, metric_calls, next_cost
from promptgraph.lm import Message, Request
from promptgraph.optimizers.base import Optimizer, StepResult
from tests.search_world import classifier, questions


class Priced(Optimizer):
    def __init__(self, calls):
        self.calls = calls

    def step(self, program, *, traces, evaluation, context):
        return StepResult()

    def estimate(self, shape):
        return [shape.strong("priced", self.calls * shape.steps, 1000, 1000)] if self.calls else []


def first_cost(optimizer):
    history = [pg.IterationRecord(iteration=0, values={}, val=pg.evaluate([]), usd=0.01)]
    plan = IterationPlan(
        program=classifier(),
        trainset=questions(40),
        valset_size=10,
        samples_per_label=5,
        optimizer=optimizer,
        forward_model="claude-haiku-5-5",
        optimizer_model="claude-opus-5-5",
    )
    return next_cost(history, plan)


def test_before_the_first_iteration_the_cost_needs_a_plan():
    history = [pg.IterationRecord(iteration=0, values={}, val=pg.evaluate([]), usd=0.01)]
    with pytest.raises(ValueError, match="from a plan"):
        next_cost(history)


def test_the_first_estimate_adds_the_optimizers_own_calls():
    assert first_cost(Priced(calls=10)) > first_cost(Priced(calls=0)) > 0


def test_light_medium_and_heavy_are_8_20_and_50_validation_passes():
    assert [metric_calls(level, validation_pass=30) for level in ("light", "medium", "heavy")] == [240, 600, 1500]
    assert metric_calls(77, validation_pass=30) == 77 and metric_calls(None, validation_pass=30) is None


def test_the_counting_lm_counts_every_request_it_passes_on():
    inner = pg.ScriptedLM(respond=lambda request: "ok")
    counting = CountingLM(inner)
    for _ in range(3):
        counting.complete(Request(messages=[Message("user", "hi")]))
    assert counting.count == 3 == len(inner.requests)
    assert counting.model == inner.model
