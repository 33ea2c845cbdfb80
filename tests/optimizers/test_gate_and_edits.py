import json

import promptgraph as pg
from promptgraph import prompts
from promptgraph.optimizers.tgd import apply_edits
from tests.scenario import graph_critic
from tests.search_world import FORMAT, HARM, RULE_A, RULE_C, optimizer_lm, train


def harmful_optimizer():
    def respond(request):
        if request.tag == "critic":
            return graph_critic(request)
        return json.dumps({"reasoning": "be strict", "values": {"classify.system": f"{HARM} {FORMAT}"}})

    return pg.ScriptedLM(respond=respond, model="claude-opus-5-5")


def test_without_a_gate_a_harmful_rewrite_is_applied():
    result = train(pg.TextualGradientDescent(lm=harmful_optimizer()), iterations=1, revert_worse=False)
    assert HARM in result.history[1].values["classify.system"]


def test_the_gate_undoes_a_harmful_rewrite_and_says_why():
    result = train(pg.TextualGradientDescent(lm=harmful_optimizer(), gate=pg.Gate()), iterations=1)
    record = result.history[1]
    assert record.values["classify.system"] == FORMAT
    (update,) = record.updates
    assert update.status == "rejected" and "undone by the gate" in update.error
    current, rewrite = record.tried
    assert rewrite.decision.startswith("dropped") and rewrite.score < current.score


def test_the_next_rewrite_is_shown_what_the_gate_turned_down():
    optimizer = pg.TextualGradientDescent(lm=harmful_optimizer(), gate=pg.Gate())
    train(optimizer, iterations=2)
    second_rewrite = [r for r in optimizer.lm.requests if r.tag == "rewrite"][-1]
    assert prompts.read(second_rewrite.messages[0].content).rejected["classify.system"] == (f"{HARM} {FORMAT}",)


def test_a_gated_greedy_run_steps_around_a_harmful_first_edit():
    result = train(pg.TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate()), iterations=3)
    system = result.program.values()["classify.system"]
    assert RULE_C in system and RULE_A not in system
    assert result.best.val.score == 0.7


def test_edit_mode_appends_a_rule_and_records_the_edit():
    result = train(pg.TextualGradientDescent(lm=optimizer_lm(), edits=True), iterations=1, revert_worse=False)
    (update,) = result.history[1].updates
    assert update.edits == (f"classify.system: appended {RULE_A!r}",)
    assert result.history[1].values["classify.system"] == f"{FORMAT} {RULE_A}"


def test_edits_replace_exact_text_in_order():
    values, problems, done = apply_edits(
        [
            {"parameter": "p", "find": "be brief", "replace": "be exact"},
            {"parameter": "p", "find": "", "replace": "Rule."},
        ],
        {"p": "Please be brief."},
    )
    assert (values, problems) == ({"p": "Please be exact. Rule."}, [])
    assert done == ("p: replaced 'be brief' with 'be exact'", "p: appended 'Rule.'")


def test_an_edit_whose_text_is_not_there_is_refused_with_what_to_fix():
    _, problems, _ = apply_edits([{"parameter": "p", "find": "missing", "replace": "x"}], {"p": "text"})
    assert problems == ["edit 1: the text to find does not occur in the current p; copy it exactly"]
    _, problems, _ = apply_edits([{"parameter": "q", "find": "", "replace": "x"}], {"p": "text"})
    assert "only p may change" in problems[0]
