"""compile's on_iteration may be several callbacks in a list: each is told of every iteration, in order, and
each is asked before the run pays for anything (so a ReportWriter beside a ProgressPrinter still refuses in time)."""

import pytest

import promptgraph as pg
from promptgraph.report import ReportExists
from tests.search_world import forward_lm, optimizer_lm, train


def test_every_callback_in_a_list_is_called_after_every_iteration_in_order():
    calls = []

    def noting(name):
        return lambda history, ledger, program: calls.append((name, history[-1].iteration))

    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=2, on_iteration=[noting("first"), noting("second")])
    assert calls == [(name, iteration) for iteration in (0, 1, 2) for name in ("first", "second")]


def test_a_report_writer_in_a_list_refuses_another_runs_report_before_any_call(tmp_path):
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "index.html").write_text("an earlier run's", encoding="utf-8")
    forward, strong = forward_lm(), optimizer_lm()
    progress = pg.ProgressPrinter(iterations=1)
    with pytest.raises(ReportExists):
        train(pg.TextualGradientDescent(lm=strong), iterations=1, lm=forward,
              on_iteration=[progress, pg.ReportWriter(tmp_path / "report")])  # fmt: skip
    assert forward.requests == [] and strong.requests == []


def test_each_callback_in_a_list_is_asked_before_the_run_with_its_resume_and_overwrite(tmp_path):
    asked = []

    class Asked:
        def before_run(self, *, resume, overwrite):
            asked.append((resume, overwrite))

        def __call__(self, history, ledger, program):
            pass

    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path, overwrite=True,
          on_iteration=[Asked(), Asked()])  # fmt: skip
    assert asked == [(False, True), (False, True)]
