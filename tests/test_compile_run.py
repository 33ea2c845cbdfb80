"""compile drives the optimizer through its contract: it says when it undid a step, saves and restores
what the optimizer remembers, and runs an optimizer that has nothing but `step`."""

import json

import pytest

import promptgraph as pg
from promptgraph.compile import CompileSettings, Run
from promptgraph.optimizers.base import Optimizer, StepResult
from tests.search_world import FORMAT, HARM, RULE_C, classifier, forward_lm, questions, train


class Writes(Optimizer):
    """Puts the next of its texts in the system prompt every step, and notes what compile tells it."""

    def __init__(self, *texts):
        self.texts = list(texts)
        self.told = []

    def step(self, program, *, traces, evaluation, context):
        program.nodes["classify"].system.update(self.texts.pop(0))
        return StepResult()

    def undone(self, values):
        self.told.append(dict(values))


def test_compile_tells_the_optimizer_which_of_its_texts_it_undid():
    optimizer = Writes(f"{HARM} {FORMAT}")  # the model stops answering in the label format: validation falls
    result = train(optimizer, iterations=1)
    assert not result.history[1].kept
    assert optimizer.told == [{"classify.system": f"{HARM} {FORMAT}"}]


def test_compile_does_not_call_undone_when_it_keeps_a_step():
    optimizer = Writes(f"{RULE_C} {FORMAT}")
    result = train(optimizer, iterations=1)
    assert result.history[1].kept
    assert optimizer.told == []


def test_with_revert_worse_off_nothing_is_undone():
    optimizer = Writes(f"{HARM} {FORMAT}")
    train(optimizer, iterations=1, revert_worse=False)
    assert optimizer.told == []


def test_an_optimizer_with_only_step_runs_under_compile():
    class Bare:  # no base class, no state, no undone, no estimate
        def step(self, program, *, traces, evaluation, context):
            program.nodes["classify"].system.update(f"{RULE_C} {FORMAT}")
            return StepResult()

    result = train(Bare(), iterations=1, budget_usd=100.0)
    assert result.best.values["classify.system"] == f"{RULE_C} {FORMAT}"


def test_an_optimizer_that_remembers_nothing_checkpoints_no_state_and_resumes(tmp_path):
    train(Writes(f"{RULE_C} {FORMAT}"), iterations=1, run_dir=tmp_path)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["optimizer_state"] is None
    resumed = train(Writes(f"{RULE_C} {FORMAT}"), iterations=2, run_dir=tmp_path, resume=True)
    assert len(resumed.history) == 3


def test_what_an_optimizer_remembers_is_checkpointed_and_given_back_on_resume(tmp_path):
    class Remembers(Writes):
        def state(self):
            return {"left": len(self.texts)}

        def restore(self, state):
            self.restored = state

    train(Remembers(f"{RULE_C} {FORMAT}", "unused"), iterations=1, run_dir=tmp_path)
    optimizer = Remembers("next")
    train(optimizer, iterations=2, run_dir=tmp_path, resume=True)
    assert optimizer.restored == {"left": 1}


def test_the_settings_refuse_what_cannot_run():
    with pytest.raises(ValueError, match="iterations must be >= 0"):
        CompileSettings(iterations=-1)
    with pytest.raises(ValueError, match="needs the run_dir"):
        CompileSettings(resume=True)


def test_a_run_repr_says_where_it_is_not_what_it_holds():
    run = Run.prepare(
        classifier(),
        trainset=questions(200),
        valset=None,
        lm=forward_lm(),
        optimizer=Writes(),
        ledger=None,
        settings=CompileSettings(iterations=3, val_per_label=5, progress=False),
    )
    run.start()
    assert repr(run).startswith("Run(iteration=0 of 3, ") and len(repr(run)) < 100


@pytest.mark.parametrize(
    "make",
    [
        lambda strong: pg.Chain(pg.TextualGradientDescent(lm=strong), pg.BootstrapDemos()),
        lambda strong: Bare(pg.TextualGradientDescent(lm=strong)),
    ],
    ids=["chain", "only step"],
)
def test_the_optimizers_own_calls_are_priced_at_the_model_it_calls_even_inside_a_chain_or_a_wrapper(make):
    strong = pg.ScriptedLM(respond=lambda request: "{}", model="claude-opus-5-5")
    run = Run.prepare(
        classifier(),
        trainset=questions(200),
        valset=None,
        lm=forward_lm(),
        optimizer=make(strong),
        ledger=None,
        settings=CompileSettings(iterations=3, val_per_label=5, progress=False),
    )
    assert run.optimizer_model == "claude-opus-5-5"


class Bare:
    """An optimizer with only `step`, wrapping one that calls a model."""

    def __init__(self, inner):
        self.lm = inner.lm
        self.inner = inner

    def step(self, program, *, traces, evaluation, context):
        return self.inner.step(program, traces=traces, evaluation=evaluation, context=context)
