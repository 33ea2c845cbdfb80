import json

import promptgraph as pg
from promptgraph import prompts
from tests.search_world import FORMAT, HARM, RULE_A, RULE_B, RULE_C, optimizer_lm, train


def test_opro_climbs_its_trajectory_to_the_best_texts():
    result = train(pg.OPRO(lm=optimizer_lm()), iterations=3)
    assert result.best.val.score == 1.0
    system = result.program.values()["classify.system"]
    assert all(rule in system for rule in (RULE_A, RULE_B, RULE_C)) and HARM not in system


def test_the_meta_prompt_shows_past_texts_worst_first_with_their_scores():
    optimizer = pg.OPRO(lm=optimizer_lm())
    train(optimizer, iterations=2)
    assert len(optimizer.trajectory) >= 4 and max(point.score for point in optimizer.trajectory) == 1.0
    prompt = [r for r in optimizer.lm.requests if r.tag == "opro"][-1].messages[0].content
    shown = [tried.score for tried in prompts.read(prompt).tried]
    assert len(shown) >= 3 and shown == sorted(shown)


def test_opro_stops_asking_once_no_proposal_improves():
    only_harm = pg.ScriptedLM(
        respond=lambda request: json.dumps({"proposals": [{"classify.system": f"{HARM} {FORMAT}"}]}),
        model="claude-opus-5-5",
    )
    optimizer = pg.OPRO(lm=only_harm, patience=2)
    result = train(optimizer, iterations=4)
    assert [record.updates[0].status for record in result.history[1:]] == ["unchanged"] * 2
    assert [record.stopped for record in result.history[1:]] == [None, result.stopped]
    assert result.stopped == "opro stopped: no proposal beat the current texts in 2 steps"
    assert len(only_harm.requests) == 2


def test_opro_restored_past_its_patience_stops_at_once():
    optimizer = pg.OPRO(lm=optimizer_lm(), patience=2)
    optimizer.restore({"trajectory": [], "stalled": 2})
    result = train(optimizer, iterations=3)
    assert len(result.history) == 2 and result.stopped.startswith("opro stopped")
    assert optimizer.lm.requests == []


def test_a_harmful_proposal_is_scored_and_dropped():
    result = train(pg.OPRO(lm=optimizer_lm()), iterations=1)
    harmful = [t for t in result.history[1].tried if any(HARM in new for _, new in t.changes.values())]
    assert harmful and harmful[0].decision.startswith("dropped")


def test_its_repr_shows_the_model_and_the_changed_settings_not_the_trajectory():
    optimizer = pg.OPRO(lm=optimizer_lm(), proposals=2)
    before = repr(optimizer)
    train(optimizer, iterations=2)
    assert optimizer.trajectory
    assert repr(optimizer) == before
    assert before.startswith("OPRO(lm=ScriptedLM(") and before.endswith(", proposals=2)")
