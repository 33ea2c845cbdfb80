"""What every optimizer promises: a seed makes it deterministic, and it improves on the scripted task."""

import pytest

import promptgraph as pg
from tests.search_world import forward_lm, optimizer_lm, train

OPTIMIZERS = {
    "tgd+gate": lambda: pg.TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate()),
    "tgd+edits": lambda: pg.TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate(), edits=True),
    "beam": lambda: pg.BeamSearch(lm=optimizer_lm()),
    "opro": lambda: pg.OPRO(lm=optimizer_lm()),
    "pareto": lambda: pg.ParetoSearch(lm=optimizer_lm()),
    "pareto+demos": lambda: pg.ParetoSearch(lm=optimizer_lm(), demos=2),
    "ape": lambda: pg.ProposeInstructions(lm=optimizer_lm(), then=pg.TextualGradientDescent(lm=optimizer_lm())),
    "chain": lambda: pg.Chain(pg.TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate()), pg.BootstrapDemos()),
}
STEPS = {"pareto": 10, "pareto+demos": 16}  # its steps reflect on 4 examples, not 20 (and with demos,
# every other one draws demos, which this world ignores): it takes more, cheaper steps


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_same_seed_gives_the_same_run(name):
    first, second = (train(OPTIMIZERS[name](), iterations=3, seed=7) for _ in range(2))
    assert [(r.values, r.demos, r.tried, r.val.scores) for r in first.history] == [
        (r.values, r.demos, r.tried, r.val.scores) for r in second.history
    ]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_it_raises_validation_accuracy_on_the_scripted_task(name):
    result = train(OPTIMIZERS[name](), iterations=STEPS.get(name, 3))
    assert result.best.val.score > result.history[0].val.score


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_budget_stops_it(name):
    budget = 0.009  # the first validation's upper bound ($0.0082: 40 replies at max_tokens), and a little more
    result = train(OPTIMIZERS[name](), iterations=6, budget_usd=budget)
    assert result.stopped and result.stopped.startswith("budget")
    assert result.ledger.usd <= budget or len(result.history) == 2  # at most the one iteration the estimate allowed


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_budget_too_small_for_its_first_step_is_refused_before_any_call_or_is_kept(name):
    forward = forward_lm()
    try:
        result = train(OPTIMIZERS[name](), iterations=None, max_metric_calls=150, lm=forward)
    except ValueError as refused:
        assert "pays for iteration 0's validation (40 calls) but no iteration after it" in str(refused)
        assert forward.requests == []
    else:
        assert len(result.history) > 1 and result.history[-1].rollouts <= 150


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("budget", [1600, 2000])
def test_its_forward_calls_never_pass_max_metric_calls(name, budget):
    result = train(OPTIMIZERS[name](), iterations=None, max_metric_calls=budget)
    assert result.history[-1].rollouts <= budget
    assert budget < 2000 or len(result.history) > 1  # the largest budget pays for a step of every one
    assert result.stopped and result.stopped.startswith(("max_metric_calls", "opro stopped"))
