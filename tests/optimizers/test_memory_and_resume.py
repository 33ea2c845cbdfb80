"""Optimizers remember across steps, learn from what compile undid, and carry their memory across a resume."""

import json

import pytest

import promptgraph as pg
from promptgraph.lm import Ledger
from promptgraph.metrics import exact_match
from promptgraph.optimizers.base import StepContext
from promptgraph.optimizers.search import BudgetSpent, Scorer
from promptgraph.optimizers.tgd import apply_edits
from tests.scenario import graph_critic
from tests.search_world import FORMAT, HARM, LABELS, RULE_A, forward_lm, optimizer_lm, questions, train


def test_a_resumed_run_goes_on_with_the_same_optimizer_memory(tmp_path):
    def optimizer():
        return pg.ProposeInstructions(
            lm=optimizer_lm(), candidates=3, then=pg.TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate())
        )

    whole = train(optimizer(), iterations=3)
    train(optimizer(), iterations=1, run_dir=tmp_path)
    resumed = train(optimizer(), iterations=3, run_dir=tmp_path, resume=True)
    assert [r.values for r in resumed.history] == [r.values for r in whole.history]
    assert [r.tried for r in resumed.history[2:]] == [r.tried for r in whole.history[2:]]
    saved = json.loads((tmp_path / "checkpoint.json").read_text())["optimizer_state"]
    assert saved["done"] is True


def test_a_rewrite_compile_undid_is_shown_to_the_next_rewrite_as_tried():
    optimizer = pg.TextualGradientDescent(lm=optimizer_lm())  # no gate: compile's validation undoes rule A
    result = train(optimizer, iterations=2)
    assert not result.history[1].kept
    assert [r.value for r in optimizer.rejected["classify.system"]] == [f"{FORMAT} {RULE_A}"]
    assert RULE_A not in result.history[2].values["classify.system"]  # the rewriter moved on


def test_beam_search_drops_the_best_candidate_validation_undid():
    optimizer = pg.BeamSearch(lm=optimizer_lm())
    optimizer.beam = [{"classify.system": f"{HARM} {FORMAT}", "classify.prefix": "", "classify.suffix": ""}]
    train(optimizer, iterations=1)
    assert all(HARM not in member["classify.system"] for member in optimizer.beam)


def test_an_edit_naming_a_list_is_a_problem_with_the_reply_not_a_crash():
    _, problems, _ = apply_edits([{"parameter": ["p"], "find": "", "replace": "x"}], {"p": "text"})
    assert problems and "only p may change" in problems[0]

    def respond(request):
        if request.tag == "critic":
            return graph_critic(request)
        return json.dumps({"edits": [{"parameter": {"odd": 1}, "replace": "x"}]})

    result = train(pg.TextualGradientDescent(lm=pg.ScriptedLM(respond=respond), edits=True), iterations=1)
    assert result.history[1].updates[0].status == "rejected"


def test_remembering_nothing_remembers_nothing():
    optimizer = pg.TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate(), remember=0)
    train(optimizer, iterations=2)
    assert all(not values for values in optimizer.rejected.values())


def test_a_nested_program_counts_every_inner_module_against_the_budget():
    inner = pg.Program.of(pg.Classify(LABELS, system=FORMAT), name="classify")
    outer = (
        pg.Program(inputs=("text",))
        .add("first", inner)
        .add("second", pg.Program.of(pg.Classify(LABELS, system=FORMAT), name="c"))
    )
    context = StepContext(forward_lm(), Ledger(), exact_match, LABELS, questions(40), seed=0)
    scorer = Scorer(outer, context, max_calls=30)
    with pytest.raises(BudgetSpent):
        scorer.scores({}, questions(20))  # 20 examples x 2 modules = 40 calls
    assert scorer.calls == 0


def test_tgd_remembers_an_undone_text_only_when_its_own_step_wrote_one():
    optimizer = pg.TextualGradientDescent(lm=optimizer_lm())
    optimizer.undone({"classify.system": "another optimizer's text"})
    assert optimizer.rejected == {}
    optimizer.wrote = True  # as after a step that changed a text
    optimizer.undone({"classify.system": "its own text"})
    assert [r.value for r in optimizer.rejected["classify.system"]] == ["its own text"]
    assert not optimizer.wrote


def test_beam_search_drops_the_member_compile_undid_and_keeps_the_rest():
    optimizer = pg.BeamSearch(lm=optimizer_lm())
    optimizer.beam = [{"classify.system": "best of the step"}, {"classify.system": "runner-up"}]
    optimizer.undone({"classify.system": "best of the step"})
    assert optimizer.beam == [{"classify.system": "runner-up"}]


def test_a_tgd_checkpoint_from_before_undone_existed_still_restores():
    optimizer = pg.TextualGradientDescent(lm=optimizer_lm())
    optimizer.restore({"rejected": {"classify.system": [["old", "why"]]}, "left": {"classify.system": "x"}})
    assert [r.value for r in optimizer.rejected["classify.system"]] == ["old"]
