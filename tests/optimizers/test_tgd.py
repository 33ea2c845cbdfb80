import json

import promptgraph as pg
from promptgraph import Feedback, ScriptedLM, TextualGradientDescent, evaluate
from tests.scenario import FORMAT, KEY_PHRASE, LABELS, classifier, forward_lm, questions

GOOD = f"{KEY_PHRASE} {FORMAT}"


def step(program, replies):
    lm = ScriptedLM(replies=replies)
    traces = program.run(questions(10), lm=forward_lm(), progress=False)
    updates = TextualGradientDescent(lm=lm).rewrite(program, evaluation=evaluate(traces, labels=LABELS))
    return updates, lm


def with_feedback():
    program = classifier()
    program.nodes["classify"].system.feedback.append(Feedback("critic of classify", "name the rule"))
    return program


def test_a_valid_rewrite_changes_the_value_and_keeps_the_old_one():
    program = with_feedback()
    updates, _ = step(program, [json.dumps({"reasoning": "r", "values": {"classify.system": GOOD}})])
    system = program.nodes["classify"].system
    assert (system.value, system.history) == (GOOD, [FORMAT])
    assert updates[0].status == "changed"
    assert updates[0].changes == {"classify.system": (FORMAT, GOOD)}


def test_a_malformed_reply_leaves_the_parameters_unchanged_after_one_repair():
    program = with_feedback()
    updates, lm = step(program, ["not json", '{"values": "still wrong"}', "unused"])
    assert program.nodes["classify"].system.value == FORMAT
    assert updates[0].status == "rejected" and "no change made" in updates[0].error
    assert len(lm.requests) == 2


def test_a_rewrite_that_breaks_the_output_format_is_refused():
    program = with_feedback()
    broken = json.dumps({"values": {"classify.system": "Just answer."}})
    updates, lm = step(program, [broken, broken])
    assert program.nodes["classify"].system.value == FORMAT
    assert "<label>X</label>" in lm.requests[1].messages[-1].content
    assert updates[0].status == "rejected"


def test_a_rewrite_may_not_touch_a_parameter_without_feedback():
    program = with_feedback()
    sneaky = json.dumps({"values": {"classify.prefix": "hi"}})
    updates, _ = step(program, [sneaky, sneaky])
    assert program.nodes["classify"].prefix.value == ""
    assert "only classify.system may change" in updates[0].error


def test_modules_without_feedback_make_no_call():
    updates, lm = step(classifier(), [])
    assert (updates, lm.requests) == ([], [])


def test_feedback_is_cleared_after_the_step():
    program = with_feedback()
    step(program, [json.dumps({"values": {}})])
    assert program.nodes["classify"].system.feedback == []


def test_the_rewriter_sees_value_role_constraints_and_feedback():
    program = with_feedback()
    _, lm = step(program, [json.dumps({"values": {}})])
    prompt = lm.requests[0].messages[0].content
    for expected in (FORMAT, "system prompt of the step", "Label: <label>X</label>", "name the rule"):
        assert expected in prompt


def test_a_prompt_already_longer_than_the_limit_can_still_be_rewritten_within_twice_its_length():
    long = f"{FORMAT} " + "Rule. " * 1800  # 10,800+ characters: over the 10,000 limit already
    program = classifier(long)
    program.nodes["classify"].system.feedback.append(Feedback("critic of classify", "name the rule"))
    longer = f"{long} {KEY_PHRASE}"
    updates, _ = step(program, [json.dumps({"reasoning": "r", "values": {"classify.system": longer}})])
    assert updates[0].status == "changed" and program.nodes["classify"].system.value == longer
    runaway = f"{long} " + "x" * (len(long) + 1000)  # more than twice as long
    program.nodes["classify"].system.feedback.append(Feedback("critic of classify", "again"))
    updates, _ = step(program, [json.dumps({"values": {"classify.system": runaway}})] * 2)
    assert updates[0].status == "rejected" and "keep it under" in updates[0].error


def test_its_repr_shows_the_model_and_only_the_settings_changed_from_their_defaults():
    optimizer = TextualGradientDescent(lm=ScriptedLM(model="claude-opus-5-5"), edits=True, max_tokens=100)
    assert (
        repr(optimizer) == "TextualGradientDescent(lm=ScriptedLM(model='claude-opus-5-5'), max_tokens=100, edits=True)"
    )


def test_its_repr_does_not_grow_with_what_it_remembers_from_training():
    from tests.search_world import optimizer_lm, train

    optimizer = TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate())
    before = repr(optimizer)
    train(optimizer, iterations=3)
    assert optimizer.rejected or optimizer.left
    assert repr(optimizer) == before
