"""Call settings set on every prompt module at once: by compile for a run, or by hand."""

import pytest

import promptgraph as pg
from promptgraph.call_settings import set_call_settings
from tests.scenario import classifier, forward_lm, optimizer_lm, questions


def test_compile_samples_every_call_of_the_run_at_its_temperature_and_leaves_the_input_as_it_was():
    program, lm = classifier(), forward_lm()
    result = pg.compile(
        program, trainset=questions(40), lm=lm, optimizer=pg.TextualGradientDescent(lm=optimizer_lm()),
        iterations=1, samples_per_label=5, val_per_label=5, temperature=0.5, progress=False,
    )  # fmt: skip
    assert {request.temperature for request in lm.requests} == {0.5}
    assert result.program.nodes["classify"].temperature == 0.5
    assert program.nodes["classify"].temperature == 0.0  # a classifier's own: greedy


def test_settings_reach_the_modules_of_a_nested_program_and_the_rest_stay():
    inner = pg.Program.of(pg.Classify(["a", "b"], effort="medium"), name="c")
    outer = pg.Program(inputs=("text",))
    outer.add("stage", inner)
    set_call_settings(outer, temperature=0.3)
    module = outer.nodes["stage"].nodes["c"]
    assert (module.temperature, module.effort) == (0.3, "medium")


def test_an_unknown_or_impossible_setting_is_refused_before_any_call():
    with pytest.raises(TypeError, match="no call setting temprature"):
        set_call_settings(classifier(), temprature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        set_call_settings(classifier(), temperature=-2)
