"""Each optimizer asks its model for the effort it was given, on every call it makes (the critic's too)."""

import pytest

import promptgraph as pg
from tests.search_world import optimizer_lm, train


@pytest.mark.parametrize(
    "make",
    [
        lambda lm, effort: pg.TextualGradientDescent(lm=lm, effort=effort),
        lambda lm, effort: pg.BeamSearch(lm=lm, effort=effort),
        lambda lm, effort: pg.OPRO(lm=lm, effort=effort),
        lambda lm, effort: pg.ProposeInstructions(lm=lm, effort=effort),
    ],
    ids=["tgd", "beam", "opro", "propose"],
)
@pytest.mark.parametrize("effort", ["medium", None])
def test_every_optimizer_call_carries_the_optimizers_effort(make, effort):
    lm = optimizer_lm()
    train(make(lm, effort), iterations=1)
    assert lm.requests and {request.effort for request in lm.requests} == {effort}


def test_optimizer_calls_ask_for_high_effort_by_default():
    lm = optimizer_lm()
    train(pg.TextualGradientDescent(lm=lm), iterations=1)
    assert {request.tag for request in lm.requests} == {"critic", "rewrite"}
    assert {request.effort for request in lm.requests} == {"high"}
