import promptgraph as pg
from tests.search_world import RULE_A, RULE_B, optimizer_lm, train


def test_beam_search_finds_a_fix_that_needs_two_edits_where_greedy_rewriting_fails():
    greedy = train(pg.TextualGradientDescent(lm=optimizer_lm(), gate=pg.Gate()), iterations=2)
    beam = train(pg.BeamSearch(lm=optimizer_lm()), iterations=2)
    assert greedy.best.val.score == 0.5
    assert beam.best.val.score >= 0.8
    system = beam.program.values()["classify.system"]
    assert RULE_A in system and RULE_B in system


def test_the_half_way_candidate_stays_in_the_beam_though_it_scores_worse():
    result = train(pg.BeamSearch(lm=optimizer_lm()), iterations=1)
    (record,) = result.history[1:]
    half_way = [t for t in record.tried if t.origin == "critique of beam 0"]
    assert half_way and half_way[0].decision == "kept in the beam"
    assert half_way[0].score < [t for t in record.tried if t.origin == "current"][0].score


def test_every_candidate_is_recorded_with_its_score_and_fate():
    result = train(pg.BeamSearch(lm=optimizer_lm()), iterations=2)
    tried = result.history[2].tried
    assert {t.origin for t in tried} >= {"current", "critique of beam 0", "paraphrase of beam 0"}
    assert all(t.decision for t in tried)
    assert sum(t.decision.startswith("kept: best") for t in tried) == 1


def test_a_call_budget_bounds_the_selection():
    result = train(pg.BeamSearch(lm=optimizer_lm(), max_calls=20), iterations=1)
    tried = result.history[1].tried
    assert sum(t.examples for t in tried) <= 20
    assert any("budget" in t.decision for t in tried) or len(tried) <= 3


def test_the_same_seed_gives_the_same_search():
    first, second = (train(pg.BeamSearch(lm=optimizer_lm()), iterations=2, seed=4) for _ in range(2))
    assert [r.tried for r in first.history] == [r.tried for r in second.history]
    assert first.program.values() == second.program.values()


def test_its_repr_shows_the_model_and_the_changed_settings_not_the_beam():
    optimizer = pg.BeamSearch(lm=pg.ScriptedLM(model="claude-opus-5-5"), width=5)
    optimizer.beam = [{"classify.system": "x" * 10_000}] * 5
    assert repr(optimizer) == "BeamSearch(lm=ScriptedLM(model='claude-opus-5-5'), width=5)"


def test_the_estimate_counts_selection_only_up_to_its_call_budget():
    from promptgraph.estimate import estimate_compile
    from tests.search_world import classifier, questions

    def selection(beam):
        phases = estimate_compile(
            classifier(), trainset=questions(200), valset_size=40, iterations=3, samples_per_label=10,
            optimizer=beam, forward_model="claude-haiku-5-5", optimizer_model="claude-opus-5-5",
        )  # fmt: skip
        return next(phase.calls for phase in phases if phase.phase == "search (selection)")

    assert selection(pg.BeamSearch(lm=optimizer_lm(), max_calls=100)) == 3 * 100
    assert selection(pg.BeamSearch(lm=optimizer_lm())) > 3 * 100
