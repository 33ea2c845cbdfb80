import random
from collections import Counter

import pytest

from promptgraph.optimizers.pool import Pool, merged_values, modules_changed


def pool_of(*scores: tuple[float, ...], values: list[dict] | None = None) -> Pool:
    pool = Pool()
    for number, row in enumerate(scores):
        pool.add(values[number] if values else {"m.system": f"text {number}"}, row)
    return pool


def test_the_frontier_keeps_a_candidate_that_alone_gets_an_example_right_though_its_mean_is_lower():
    pool = pool_of((1, 1, 1, 0), (0, 0, 0, 1))
    assert pool.best().number == 0
    assert pool.frontier() == {0: 3, 1: 1}


def test_a_dominated_candidate_leaves_the_frontier():
    pool = pool_of((1, 1, 0), (1, 0, 0), (0, 0, 1))
    assert pool.frontier() == {0: 2, 2: 1}


def test_of_two_candidates_with_the_same_scores_the_shorter_stays():
    pool = pool_of((1, 0), (1, 0), values=[{"m.system": "a long long text"}, {"m.system": "short"}])
    assert pool.frontier() == {1: 1}
    assert pool.best().number == 1


def test_examples_nobody_gets_right_lead_nothing():
    pool = pool_of((1, 0, 0), (0, 1, 0))
    assert pool.frontier() == {0: 1, 1: 1}


def test_pareto_selection_picks_parents_in_proportion_to_the_examples_they_lead():
    pool = pool_of((1, 1, 1, 0), (0, 0, 0, 1))
    rng = random.Random(0)
    picks = Counter(pool.select("pareto", rng).number for _ in range(4000))
    assert 0.70 < picks[0] / 4000 < 0.80  # leads 3 of 4 examples


def test_best_selection_always_picks_the_highest_mean():
    pool = pool_of((1, 1, 1, 0), (0, 0, 0, 1))
    assert {pool.select("best", random.Random(seed)).number for seed in range(50)} == {0}


def test_epsilon_selection_sometimes_explores():
    pool = pool_of((1, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0))
    picks = Counter(pool.select("epsilon", random.Random(seed), epsilon=0.5).number for seed in range(400))
    assert picks[0] > picks[2] > 0


def test_an_unknown_selection_is_refused_by_name():
    with pytest.raises(ValueError, match="pareto, best, epsilon"):
        pool_of((1,)).select("greedy", random.Random(0))


def test_the_same_texts_are_one_candidate():
    pool = pool_of((1, 0))
    again = pool.add({"m.system": "text 0"}, (0, 1))
    assert again.number == 0 and len(pool) == 1


def test_merge_takes_each_module_from_the_candidate_that_changed_it():
    base = {"a.system": "A0", "b.system": "B0"}
    pool = Pool()
    pool.add(base, (0, 0, 0))
    pool.add({"a.system": "A1", "b.system": "B0"}, (1, 0, 0), parent=0, changed=("a",))
    pool.add({"a.system": "A0", "b.system": "B1"}, (0, 1, 0), parent=0, changed=("b",))
    first, second, ancestor = pool.merge_pair(set())
    assert (first.number, second.number, ancestor.number) == (1, 2, 0)
    assert merged_values(ancestor, first, second) == {"a.system": "A1", "b.system": "B1"}


def test_merge_skips_pairs_that_changed_the_same_module_and_pairs_already_tried():
    pool = Pool()
    pool.add({"a.system": "A0", "b.system": "B0"}, (0, 0, 0))
    pool.add({"a.system": "A1", "b.system": "B0"}, (1, 0, 0), parent=0)
    pool.add({"a.system": "A2", "b.system": "B0"}, (0, 1, 0), parent=0)
    pool.add({"a.system": "A0", "b.system": "B3"}, (0, 0, 1), parent=0)
    pairs = []
    while (found := pool.merge_pair(set(pairs))) is not None:
        pairs.append((found[0].number, found[1].number))
    assert pairs == [(1, 3), (2, 3)]


def test_modules_changed_names_nodes_not_parameters():
    assert modules_changed({"a.system": "x", "a.prefix": "y"}, {"a.system": "x2", "a.prefix": "y2"}) == ("a",)


def test_the_pool_round_trips_through_its_state():
    pool = Pool()
    pool.add({"a.system": "A0"}, (0.5, 1.0))
    pool.add({"a.system": "A1"}, (1.0, 0.0), parent=0, changed=("a",), iteration=3, origin="reflection")
    again = Pool.from_dict(pool.to_dict())
    assert again.candidates == pool.candidates
