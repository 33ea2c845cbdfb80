import promptgraph as pg
from promptgraph.report.candidates import candidates
from tests.search_world import optimizer_lm, train


def test_the_candidate_tree_rebuilt_from_the_history_matches_the_search_pool():
    optimizer = pg.ParetoSearch(optimizer_lm())
    result = train(optimizer, iterations=8)
    rows = candidates(result.history).rows
    assert len(optimizer.pool) > 2
    assert [(row.number, row.parent, row.changed) for row in rows] == [
        (c.number, c.parent, c.changed) for c in optimizer.pool.candidates
    ]
    assert {row.number for row in rows if row.leads} == set(optimizer.pool.frontier())


def test_the_report_shows_the_candidates_and_each_iterations_frontier(tmp_path):
    result = train(pg.ParetoSearch(optimizer_lm()), iterations=8)
    page = pg.write_report(result.history, result.ledger, tmp_path).read_text()
    assert 'id="candidates"' in page and "Pareto frontier after this iteration: #0" in page


def test_a_run_with_one_candidate_has_no_candidates_section(tmp_path):
    result = train(pg.ParetoSearch(optimizer_lm()), iterations=0)
    page = pg.write_report(result.history, result.ledger, tmp_path).read_text()
    assert 'id="candidates"' not in page
