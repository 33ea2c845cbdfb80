"""The optimizer contract: everything but `step` has a safe default, and an object with only `step` still works."""

import pytest

import promptgraph as pg
from promptgraph.optimizers.base import Optimizer, StepResult, as_optimizer
from tests.test_estimate import classifier, estimate


class OnlyStep(Optimizer):
    def step(self, program, *, traces, evaluation, context):
        return StepResult()


class DuckTyped:  # written against the old Protocol: no base class
    def __init__(self, state=None):
        self.saved = state
        self.restored = None

    def step(self, program, *, traces, evaluation, context):
        return StepResult()

    def state(self):
        return self.saved

    def restore(self, state):
        self.restored = state

    def __repr__(self):
        return "DuckTyped()"


def test_an_optimizer_that_defines_only_step_remembers_nothing():
    optimizer = OnlyStep()
    assert optimizer.state() is None
    optimizer.restore({"anything": 1})  # nothing to put back, and no error
    assert optimizer.state() is None


def test_an_optimizer_that_defines_only_step_ignores_being_undone():
    optimizer = OnlyStep()
    optimizer.undone({"classify.system": "a text that lost"})
    assert optimizer.state() is None


def test_an_optimizer_that_defines_only_step_adds_no_phase_to_an_estimate():
    phases = estimate(classifier(), OnlyStep())
    assert set(phases) == {"forward", "validate"}


def test_an_object_with_only_step_is_wrapped_with_the_defaults():
    class Bare:
        def step(self, program, *, traces, evaluation, context):
            return StepResult()

    wrapped = as_optimizer(Bare())
    assert isinstance(wrapped, Optimizer)
    assert wrapped.state() is None
    wrapped.undone({"classify.system": "x"})
    assert wrapped.estimate(None) == []


def test_a_wrapped_object_keeps_the_methods_it_has_and_its_repr():
    duck = DuckTyped(state={"memory": [1, 2]})
    wrapped = as_optimizer(duck)
    assert wrapped.state() == {"memory": [1, 2]}
    wrapped.restore({"memory": [3]})
    assert duck.restored == {"memory": [3]}
    assert repr(wrapped) == "DuckTyped()"


def test_an_optimizer_is_not_wrapped_again():
    optimizer = OnlyStep()
    assert as_optimizer(optimizer) is optimizer


def test_something_without_step_is_refused_with_what_an_optimizer_needs():
    with pytest.raises(TypeError, match=r"no step\(program"):
        as_optimizer(object())


def test_a_chain_tells_every_optimizer_its_step_was_undone():
    class Forgets(OnlyStep):
        def __init__(self):
            self.told = []

        def undone(self, values):
            self.told.append(dict(values))

    first, second = Forgets(), Forgets()
    pg.Chain(first, second).undone({"classify.system": "lost"})
    assert first.told == second.told == [{"classify.system": "lost"}]


def test_a_chain_of_duck_typed_optimizers_saves_and_restores_each_state():
    chain = pg.Chain(DuckTyped(state={"a": 1}), OnlyStep())
    assert chain.state() == {"optimizers": [{"a": 1}, None]}
    chain.restore({"optimizers": [{"a": 2}, None]})
    assert chain.optimizers[0].inner.restored == {"a": 2}


def test_a_subclass_may_keep_a_model_attribute_of_its_own():
    class Mine(Optimizer):
        def __init__(self, model):
            self.model = model  # a name a user's optimizer may well have used before called_model() existed

        def step(self, program, *, traces, evaluation, context):
            return StepResult()

    assert Mine("claude-opus-5-5").model == "claude-opus-5-5" and Mine("x").called_model() is None
