"""compile spends nothing it need not: a program already validated is not validated again, and an
optimizer that has stopped ends the run."""

import json

import promptgraph as pg
from promptgraph.optimizers.base import Optimizer, StepResult
from tests import scenario, search_world
from tests.search_world import FORMAT, HARM, RULE_A, RULE_C, forward_lm, train


def the_same_text_rewriter():
    """A critic with something to say, and a rewriter that gives back the text it was shown."""

    def respond(request):
        shown = pg.prompts.read(request.messages[0].content)
        if scenario.asked(request) == "critic":
            return json.dumps({"critique": "c", "parameters": {}, "inputs": {}})
        return json.dumps({"values": dict(shown.values)})

    return pg.ScriptedLM(respond=respond, model="claude-opus-5-5")


def validations(forward):
    return [request for request in forward.requests if request.tag == "validate"]


def test_a_step_that_changed_nothing_is_not_validated_again():
    forward = scenario.forward_lm()
    result = pg.compile(
        scenario.classifier(),
        trainset=scenario.questions(60),
        lm=forward,
        optimizer=pg.TextualGradientDescent(lm=the_same_text_rewriter()),
        iterations=2,
        samples_per_label=8,
        val_per_label=6,
        progress=False,
    )
    assert len(validations(forward)) == 12  # iteration 0's pass only
    assert [record.validated_in for record in result.history] == [None, 0, 0]
    assert result.history[2].val is result.history[0].val


class Writes(Optimizer):
    """Puts its texts in the system prompt, one a step."""

    def __init__(self, *texts):
        self.texts = list(texts)

    def step(self, program, *, traces, evaluation, context):
        program.nodes["classify"].system.update(self.texts.pop(0))
        return StepResult()


def test_texts_validated_in_any_earlier_iteration_reuse_that_pass():
    forward = forward_lm()
    texts = (f"{RULE_A} {FORMAT}", f"{RULE_C} {FORMAT}", f"{RULE_A} {FORMAT}")
    result = pg.compile(
        search_world.classifier(),
        trainset=search_world.questions(200),
        lm=forward,
        optimizer=Writes(*texts),
        iterations=3,
        samples_per_label=10,
        val_per_label=20,
        revert_worse=False,
        progress=False,
    )
    assert [record.validated_in for record in result.history] == [None, None, None, 1]
    assert len(validations(forward)) == 3 * 40


def test_the_log_line_says_which_pass_was_reused(caplog):
    with caplog.at_level("INFO", logger="promptgraph.compile"):
        pg.compile(
            scenario.classifier(),
            trainset=scenario.questions(60),
            lm=scenario.forward_lm(),
            optimizer=pg.TextualGradientDescent(lm=the_same_text_rewriter()),
            iterations=1,
            samples_per_label=8,
            val_per_label=6,
            progress=False,
        )
    assert "same texts and demos as iteration 0" in caplog.text


def test_validated_in_survives_the_history_dict():
    record = pg.IterationRecord(iteration=2, values={}, val=pg.evaluate([]), validated_in=1)
    assert pg.IterationRecord.from_dict(record.to_dict()).validated_in == 1
    old = record.to_dict()
    del old["validated_in"]
    assert pg.IterationRecord.from_dict(old).validated_in is None


class Stops(Optimizer):
    def step(self, program, *, traces, evaluation, context):
        return StepResult(stopped="nothing left to try")


def test_an_optimizer_that_stopped_ends_the_run_after_recording_its_step():
    result = train(Stops(), iterations=4)
    assert len(result.history) == 2
    assert result.stopped == "nothing left to try"
    assert result.history[1].stopped == "nothing left to try"
    assert result.program.meta["stopped"] == "nothing left to try"


def test_opro_that_stopped_ends_the_run_with_no_more_forward_calls():
    only_harm = pg.ScriptedLM(
        respond=lambda request: json.dumps({"proposals": [{"classify.system": f"{HARM} {FORMAT}"}]}),
        model="claude-opus-5-5",
    )
    forward = forward_lm()
    result = pg.compile(
        search_world.classifier(),
        trainset=search_world.questions(200),
        lm=forward,
        optimizer=pg.OPRO(lm=only_harm, patience=2),
        iterations=6,
        samples_per_label=10,
        val_per_label=20,
        progress=False,
    )
    assert len(result.history) == 3  # two steps without a gain, then the run ends
    assert result.stopped.startswith("opro stopped: no proposal beat the current texts in 2 steps")
    assert len(validations(forward)) == 40  # iteration 0's pass only: the texts never changed
    assert len([r for r in forward.requests if r.tag == "forward"]) == 2 * 20


def test_a_resumed_run_whose_optimizer_stopped_takes_no_more_steps(tmp_path):
    train(Stops(), iterations=4, run_dir=tmp_path)
    forward = forward_lm()
    result = pg.compile(
        search_world.classifier(),
        trainset=search_world.questions(200),
        lm=forward,
        optimizer=Stops(),
        iterations=6,
        samples_per_label=10,
        val_per_label=20,
        progress=False,
        run_dir=tmp_path,
        resume=True,
    )
    assert len(result.history) == 2 and result.stopped == "nothing left to try"
    assert forward.requests == []
