import promptgraph as pg
from tests.search_world import optimizer_lm, train


def test_instructions_and_demos_train_together_each_step():
    chain = pg.Chain(pg.TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate()), pg.BootstrapDemos(per_module=2))
    result = train(chain, iterations=3)
    for record in result.history[1:]:
        touched = [name for update in record.updates for name in update.changes] + [
            "demos" for update in record.updates if "demo" in update.reasoning
        ]
        assert any("system" in name for name in touched) or record.critiques  # the rewriter's part ran
        assert any("demos" in name for name in touched)  # and the demo search's
    assert result.best.val.score > result.history[0].val.score


def test_a_chain_needs_an_optimizer():
    import pytest

    with pytest.raises(ValueError, match="at least one"):
        pg.Chain()


class Stops(pg.optimizers.Optimizer):
    def __init__(self, reason):
        self.reason = reason

    def step(self, program, *, traces, evaluation, context):
        return pg.optimizers.StepResult(stopped=self.reason)


class Goes(pg.optimizers.Optimizer):
    def step(self, program, *, traces, evaluation, context):
        return pg.optimizers.StepResult()


def test_a_chain_stops_only_when_every_optimizer_in_it_stopped():
    assert train(pg.Chain(Stops("a"), Stops("b")), iterations=3).stopped == "a; b"
    going = train(pg.Chain(Stops("a"), Goes()), iterations=3)
    assert going.stopped is None and len(going.history) == 4


class Picks(Goes):
    def __init__(self, count=None):
        self.count = count
        self.told = []

    def begin_step(self, program, context):
        return None if self.count is None else list(context.trainset[: self.count])

    def validated(self, iteration, program, evaluation):
        self.told.append(iteration)


def test_a_chain_tells_every_optimizer_of_validations_and_the_first_that_picks_chooses_the_examples():
    first, second = Picks(), Picks(count=5)
    result = train(pg.Chain(first, second), iterations=1)
    assert first.told == second.told == [0, 1]
    assert len(result.history[1].samples) == 5
