"""compile never replaces a run directory's checkpoint unasked: resume it, overwrite it, or choose another."""

import json

import pytest

import promptgraph as pg
from promptgraph import checkpoint
from promptgraph.compile import RunExists
from tests.search_world import forward_lm, optimizer_lm, train


def checkpointed(run_dir, iterations=2):
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=iterations, run_dir=run_dir)
    return (run_dir / checkpoint.FILE).read_text(encoding="utf-8")


def test_a_new_compile_into_a_run_dir_holding_a_checkpoint_is_refused_before_any_call(tmp_path):
    saved = checkpointed(tmp_path)
    forward, strong = forward_lm(), optimizer_lm()
    with pytest.raises(RunExists):
        train(pg.TextualGradientDescent(lm=strong), iterations=1, run_dir=tmp_path, lm=forward)
    assert forward.requests == [] and strong.requests == []
    assert (tmp_path / checkpoint.FILE).read_text(encoding="utf-8") == saved


def test_the_refusal_names_the_checkpoint_and_says_resume_overwrite_or_another_run_dir(tmp_path):
    checkpointed(tmp_path)
    with pytest.raises(RunExists) as refused:
        train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)
    message = str(refused.value)
    assert str(tmp_path / checkpoint.FILE) in message
    assert "after iteration 2" in message
    assert "resume=True" in message and "overwrite=True" in message and "another run_dir" in message


def test_the_refusal_is_a_promptgraph_error_and_a_value_error():
    assert issubclass(RunExists, pg.PromptgraphError) and issubclass(RunExists, ValueError)


def test_overwrite_starts_a_new_run_in_its_place(tmp_path):
    checkpointed(tmp_path, iterations=2)
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path, overwrite=True)
    assert json.loads((tmp_path / checkpoint.FILE).read_text(encoding="utf-8"))["iteration"] == 1


def test_resume_carries_on_from_the_checkpoint_as_before(tmp_path):
    checkpointed(tmp_path, iterations=1)
    result = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=2, run_dir=tmp_path, resume=True)
    assert [record.iteration for record in result.history] == [0, 1, 2]


def test_a_run_dir_without_a_checkpoint_is_used_as_before(tmp_path):
    (tmp_path / "program.json").write_text("kept", encoding="utf-8")  # compile writes no program.json
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)
    assert (tmp_path / "program.json").read_text(encoding="utf-8") == "kept"
    assert (tmp_path / checkpoint.FILE).exists()


def test_resume_and_overwrite_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="resume=True or overwrite=True"):
        train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path, resume=True, overwrite=True)


def test_a_damaged_checkpoint_is_refused_too(tmp_path):
    (tmp_path / checkpoint.FILE).write_text("{", encoding="utf-8")  # someone's, even if it cannot be read
    with pytest.raises(RunExists, match="resume=True"):
        train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)


def a_journal_of(calls: int) -> str:
    """The ledger journal a run killed in iteration 0, before its first checkpoint, leaves: `calls` paid calls."""
    line = {"model": "claude-haiku-5-5", "tag": "validate", "usage": {"input_tokens": 100, "output_tokens": 5}}
    return "".join(json.dumps(line) + "\n" for _ in range(calls))


def test_a_new_run_keeps_the_ledger_journal_of_a_run_killed_before_its_first_checkpoint(tmp_path):
    (tmp_path / checkpoint.JOURNAL).write_text(a_journal_of(7), encoding="utf-8")
    train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path)
    assert pg.Ledger.from_journal(tmp_path / "ledger-journal.1.jsonl").calls == 7


def test_the_new_run_in_such_a_directory_counts_only_its_own_calls(tmp_path):
    fresh = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path / "fresh")
    (tmp_path / "left" / checkpoint.JOURNAL).parent.mkdir()
    (tmp_path / "left" / checkpoint.JOURNAL).write_text(a_journal_of(7), encoding="utf-8")
    again = train(pg.TextualGradientDescent(lm=optimizer_lm()), iterations=1, run_dir=tmp_path / "left")
    assert (again.ledger.calls, again.ledger.usd) == (fresh.ledger.calls, fresh.ledger.usd)
