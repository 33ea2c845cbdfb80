import promptgraph as pg
from tests.search_world import APE_INSTRUCTIONS, optimizer_lm, train


def test_proposed_instructions_are_scored_and_the_best_replaces_an_empty_start():
    result = train(pg.ProposeInstructions(lm=optimizer_lm()), iterations=1)
    assert result.best.val.score == 1.0
    assert result.program.values()["classify.system"] == APE_INSTRUCTIONS[3]


def test_an_instruction_that_breaks_the_label_format_is_never_scored():
    result = train(pg.ProposeInstructions(lm=optimizer_lm()), iterations=1)
    scored = [new for t in result.history[1].tried for _, new in t.changes.values()]
    assert "Answer with one word." not in scored and len(result.history[1].tried) == 5  # current + 4 usable


def test_as_a_first_phase_it_hands_later_steps_to_the_next_optimizer():
    then = pg.TextualGradientDescent(lm=optimizer_lm())
    optimizer = pg.ProposeInstructions(lm=optimizer_lm(), candidates=3, then=then)
    result = train(optimizer, iterations=2)
    first, second = result.history[1:]
    assert first.tried and not first.critiques  # proposals, scored
    assert second.critiques and [t.origin for t in second.tried] == [
        "rewrite"
    ]  # the next optimizer's critique and rewrite
    assert {request.tag for request in then.lm.requests} == {"critic", "rewrite"}


def test_its_repr_shows_the_model_and_the_optimizer_it_hands_over_to():
    strong = pg.ScriptedLM(model="claude-opus-5-5")
    optimizer = pg.ProposeInstructions(lm=strong, then=pg.TextualGradientDescent(lm=strong))
    assert repr(optimizer) == (
        "ProposeInstructions(lm=ScriptedLM(model='claude-opus-5-5'), "
        "then=TextualGradientDescent(lm=ScriptedLM(model='claude-opus-5-5')))"
    )
