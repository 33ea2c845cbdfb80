"""A ReportWriter never writes over a report it did not write: another run's page is refused, before any call."""

import pytest

import promptgraph as pg
from promptgraph.compile import RunExists
from promptgraph.report import ReportExists, ReportWriter
from tests.search_world import forward_lm, optimizer_lm, train

EARLIER = "<html>the report of an earlier run</html>"


def with_a_report(directory):
    directory.mkdir(parents=True)
    (directory / "index.html").write_text(EARLIER, encoding="utf-8")
    return directory


def test_compile_refuses_to_write_over_another_runs_report_before_any_call(tmp_path):
    report = with_a_report(tmp_path / "run" / "report")
    forward, strong = forward_lm(), optimizer_lm()
    with pytest.raises(ReportExists):
        train(pg.TextualGradientDescent(lm=strong), iterations=1, lm=forward, run_dir=tmp_path / "run",
              on_iteration=ReportWriter(report))  # fmt: skip
    assert forward.requests == [] and strong.requests == []
    assert (report / "index.html").read_text(encoding="utf-8") == EARLIER


def test_the_refusal_names_the_page_and_says_overwrite_or_another_directory(tmp_path):
    report = with_a_report(tmp_path / "report")
    with pytest.raises(ReportExists) as refused:
        train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, on_iteration=ReportWriter(report))
    message = str(refused.value)
    assert str(report / "index.html") in message
    assert "overwrite=True" in message and "another" in message
    assert "\n" not in message


def test_the_refusal_is_a_run_exists_error():
    assert issubclass(ReportExists, RunExists) and issubclass(ReportExists, pg.PromptgraphError)


def test_compile_with_overwrite_replaces_the_report(tmp_path):
    report = with_a_report(tmp_path / "run" / "report")
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path / "run", overwrite=True,
          on_iteration=ReportWriter(report))  # fmt: skip
    assert (report / "index.html").read_text(encoding="utf-8") != EARLIER


def test_a_writer_told_overwrite_replaces_the_report(tmp_path):
    report = with_a_report(tmp_path / "report")
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, on_iteration=ReportWriter(report, overwrite=True))
    assert (report / "index.html").read_text(encoding="utf-8") != EARLIER


def test_a_resumed_run_rewrites_its_own_report(tmp_path):
    run_dir, report = tmp_path / "run", tmp_path / "run" / "report"
    train(
        pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=run_dir, on_iteration=ReportWriter(report)
    )
    result = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=2, run_dir=run_dir, resume=True,
                   on_iteration=ReportWriter(report))  # fmt: skip
    assert f'id="iteration-{result.history[-1].iteration}"' in (report / "index.html").read_text(encoding="utf-8")


def test_a_writer_called_directly_refuses_a_page_it_did_not_write(tmp_path):
    report = with_a_report(tmp_path / "report")
    result = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1)
    with pytest.raises(ReportExists):
        ReportWriter(report)(result.history, result.ledger, result.program)
    assert (report / "index.html").read_text(encoding="utf-8") == EARLIER


def test_a_writer_rewrites_the_page_it_wrote(tmp_path):
    result = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1)
    writer = ReportWriter(tmp_path / "report")
    writer(result.history[:1], result.ledger, result.program)
    writer(result.history, result.ledger, result.program)
    assert 'id="iteration-1"' in (tmp_path / "report" / "index.html").read_text(encoding="utf-8")


def test_the_old_positional_spelling_still_works(tmp_path):
    writer = ReportWriter(tmp_path / "report", "my title", None)
    assert writer.title == "my title" and writer.overwrite is False
