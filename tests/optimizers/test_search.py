import attrs
import pytest

from promptgraph.lm import Ledger
from promptgraph.metrics import exact_match
from promptgraph.optimizers.base import StepContext
from promptgraph.optimizers.search import BudgetSpent, Scorer, applied, beats, choose, paired, trainable_values
from promptgraph.optimizers.select import successive_rejects
from tests.search_world import FORMAT, HARM, LABELS, RULE_A, RULE_B, RULE_C, classifier, forward_lm, questions


def context(examples=None):
    return StepContext(forward_lm(), Ledger(), exact_match, LABELS, examples or questions(200), seed=1)


def test_the_sign_test_counts_only_the_examples_that_differ():
    result = paired([1, 1, 0, 0, 1, 0], [1, 0, 1, 1, 1, 1])
    assert (result.wins, result.losses) == (3, 1)
    assert result.p_better == pytest.approx(5 / 16) and result.p_worse == pytest.approx(15 / 16)


def test_ten_wins_and_no_loss_is_better_beyond_doubt_and_one_win_is_not():
    assert paired([0] * 10, [1] * 10).better(0.01)
    assert not paired([0, 1], [1, 1]).better(0.2)


def test_scores_on_different_examples_cannot_be_paired():
    with pytest.raises(ValueError, match="same examples"):
        paired([1, 0], [1])


def test_the_scorer_pays_once_per_candidate_and_example():
    program = classifier()
    scorer = Scorer(program, context())
    examples = questions(20)
    values = {"classify.system": f"{RULE_C} {FORMAT}"}
    assert scorer.mean(values, examples) == pytest.approx(0.7)
    scorer.scores(values, examples[:10])
    assert scorer.calls == 20


def test_the_scorer_refuses_to_overspend_its_budget():
    scorer = Scorer(classifier(), context(), max_calls=30)
    scorer.scores({"classify.system": FORMAT}, questions(20))
    with pytest.raises(BudgetSpent):
        scorer.scores({"classify.system": f"{RULE_C} {FORMAT}"}, questions(20))
    assert scorer.calls == 20


def test_a_candidate_is_scored_with_its_texts_and_the_program_gets_its_own_back():
    program = classifier()
    with applied(program, {"classify.system": "changed"}):
        assert program.values()["classify.system"] == "changed"
    assert program.values()["classify.system"] == FORMAT
    assert program.nodes["classify"].system.history == []


CANDIDATES = [
    {"classify.system": text}
    for text in (FORMAT, f"{RULE_A} {FORMAT}", f"{HARM} {FORMAT}", f"{RULE_C} {FORMAT}", f"{RULE_A} {RULE_B} {FORMAT}",
                 f"{RULE_A} {RULE_B} {RULE_C} {FORMAT}")
]  # fmt: skip


def select(exhaustive):
    ctx = context()
    scorer = Scorer(classifier(), ctx)
    choice = successive_rejects(CANDIDATES, 1, scorer, lambda r: ctx.dev_sample(5, offset=r), exhaustive=exhaustive)
    return choice, scorer.calls


def test_successive_rejects_chooses_what_exhaustive_scoring_chooses_for_fewer_calls():
    bandit, bandit_calls = select(exhaustive=False)
    exhaustive, exhaustive_calls = select(exhaustive=True)
    assert bandit.kept == exhaustive.kept == (5,)
    assert bandit_calls < 0.7 * exhaustive_calls


def test_the_worst_candidates_leave_first():
    choice, _ = select(exhaustive=False)
    first_out = min(choice.dropped_in_round, key=choice.dropped_in_round.get)
    assert CANDIDATES[first_out]["classify.system"].startswith((HARM, RULE_A + " " + FORMAT[:5]))


def test_an_update_repr_names_what_changed_not_the_texts():
    from promptgraph.optimizers import Update

    update = Update(
        node="classify", status="changed", changes={"classify.system": ("a" * 5000, "b" * 5000)}, replies=("r" * 5000,)
    )
    assert repr(update) == "Update(node='classify', status='changed', changes=['classify.system'])"


def test_a_tried_repr_names_what_the_candidate_changed_not_the_texts():
    from promptgraph.optimizers import Tried

    tried = Tried(step=1, candidate=2, origin="critique", changes={"classify.system": ("a" * 5000, "b" * 5000)},
                  score=0.75, examples=20, decision="kept")  # fmt: skip
    assert repr(tried) == (
        "Tried(step=1, candidate=2, origin='critique', changes=['classify.system'], score=0.75, examples=20, "
        "decision='kept')"
    )


def test_a_tried_repr_rounds_its_score_as_the_other_reprs_do():
    from promptgraph.optimizers import Tried

    tried = Tried(step=1, candidate=2, origin="critique", changes={}, score=2 / 7, examples=7, decision="kept")
    assert "score=0.29," in repr(tried)
    assert "score=None," in repr(attrs.evolve(tried, score=None))  # never scored


def choose_between(*systems, alpha=0.2, max_calls=None):
    program = classifier()
    start = trainable_values(program)
    candidates = [
        ({**start, "classify.system": system}, "current" if i == 0 else "test") for i, system in enumerate(systems)
    ]
    ctx = context()
    scorer = Scorer(program, ctx, max_calls)
    choice = choose(candidates, scorer=scorer, dev=ctx.dev_sample(10), accept=beats(alpha), step=1)
    return program, choice


def test_choose_keeps_the_current_program_when_no_candidate_wins_the_paired_test():
    # RULE_C scores higher, but on a few rhetorical questions only: not beyond p <= 0.001
    program, choice = choose_between(FORMAT, f"{RULE_C} {FORMAT}", alpha=0.001)
    assert choice.test.new > choice.test.old and not choice.changed
    assert program.values()["classify.system"] == FORMAT
    assert program.nodes["classify"].system.history == []
    assert [t.decision.split(":")[0] for t in choice.tried] == ["kept", "dropped"]


def test_choose_commits_the_best_candidate_that_wins_the_paired_test():
    program, choice = choose_between(FORMAT, f"{HARM} {FORMAT}", f"{RULE_C} {FORMAT}", alpha=0.5)
    assert choice.winner == 2
    assert program.values()["classify.system"] == f"{RULE_C} {FORMAT}"
    assert program.nodes["classify"].system.history == [FORMAT]


def test_choose_records_every_candidate_with_its_score_on_the_same_examples():
    _, choice = choose_between(FORMAT, f"{HARM} {FORMAT}", f"{RULE_C} {FORMAT}", alpha=0.5)
    assert [t.candidate for t in choice.tried] == [0, 1, 2]
    assert [t.origin for t in choice.tried] == ["current", "test", "test"]
    assert len({t.examples for t in choice.tried}) == 1
    assert choice.tried[1].score == 0.0 and choice.tried[1].decision == "dropped: not the best"
    assert choice.tried[0].changes == {} and list(choice.tried[2].changes) == ["classify.system"]


def test_choose_drops_a_candidate_the_budget_leaves_unscored_and_changes_nothing():
    program, choice = choose_between(FORMAT, f"{RULE_C} {FORMAT}", max_calls=25)  # 20 dev examples each
    assert choice.winner is None and choice.stopped
    assert choice.tried[1].score is None and choice.tried[1].decision.startswith("dropped:")
    assert program.values()["classify.system"] == FORMAT


def test_the_candidates_of_a_choice_are_scored_in_one_message_batch():
    from promptgraph.lm import AnthropicLM, Batching
    from promptgraph.optimizers.search import higher
    from promptgraph.testing import MessagesServer
    from tests import scenario

    with MessagesServer(scenario.world, batch_seconds=0.02) as server:
        lm = AnthropicLM(base_url=server.base_url, api_key="test", max_retries=0, layer_retries=0)
        batching = Batching(poll_seconds=0.02, progress=False)
        step = StepContext(lm, Ledger(), exact_match, scenario.LABELS, scenario.questions(20), seed=1, batch=batching)
        start = {"classify.system": scenario.FORMAT}
        rule = {"classify.system": f"{scenario.KEY_PHRASE} {scenario.FORMAT}"}
        choice = choose(
            [(start, "current"), (rule, "critique")],
            scorer=Scorer(scenario.classifier(), step),
            dev=scenario.questions(6),
            accept=higher,
            step=1,
        )
        assert [batch.size for batch in server.batches.values()] == [12]  # both candidates, six examples each
    assert choice.winner == 1


def test_a_choice_scores_only_the_candidates_its_budget_pays_for_and_says_why_of_the_rest():
    scorer = Scorer(classifier(), context(), max_calls=25)
    candidates = [({"classify.system": FORMAT}, "current"), ({"classify.system": f"{RULE_C} {FORMAT}"}, "critique")]
    choice = choose(candidates, scorer=scorer, dev=questions(20), accept=beats(0.5), step=1)
    assert scorer.calls == 20
    assert [tried.examples for tried in choice.tried] == [20, 0]
    assert choice.stopped == "20 of 25 calls spent"
