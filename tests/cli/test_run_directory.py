"""An --out that holds a run is never written over by accident: resume it, train it further, or --force."""

import json
from pathlib import Path

import pytest

from promptgraph.cli import main
from tests.cli.test_train import compile_to, data, data_options, reply, server  # noqa: F401  # fixtures
from tests.messages_server import serve


def test_a_new_compile_into_a_finished_run_is_refused_saying_force_or_resume(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    program = (out / "program.json").read_text()
    capsys.readouterr()
    again = ["compile", str(data), *data_options(), "--out", str(out), "--base-url", server]
    assert main(again) == 2
    error = capsys.readouterr().err
    assert f"--out {out} holds a finished run (2 of 2 iterations); pass --force to replace it" in error
    assert f"--resume {out} --iterations 3" in error
    assert (out / "program.json").read_text() == program


def test_force_starts_a_new_run_in_its_place(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    compile_to(tmp_path, server, data, "--iterations", "1", "--force")
    assert json.loads((out / "checkpoint.json").read_text())["iteration"] == 1


def test_a_new_compile_into_an_unfinished_run_says_how_to_resume_it(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    settings = json.loads((out / "command.json").read_text())
    (out / "command.json").write_text(json.dumps(settings | {"iterations": 5}), encoding="utf-8")  # as if stopped
    capsys.readouterr()
    assert main(["compile", str(data), *data_options(), "--out", str(out), "--base-url", server]) == 2
    assert f"holds a run stopped after iteration 2 of 5; carry on with --resume {out}" in capsys.readouterr().err


def test_resuming_a_finished_run_says_how_to_train_it_further(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    capsys.readouterr()
    assert main(["compile", "--resume", str(out)]) == 0  # it ends at once, as before
    error = capsys.readouterr().err
    assert "holds a finished run (2 of 2 iterations): nothing to resume" in error
    assert "resume with --iterations 3 or more" in error


def test_a_new_compile_into_a_run_its_optimizer_ended_says_it_is_finished_not_resume(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data, "--optimizer", "knn", "--iterations", "3")  # knn ends after its one step
    capsys.readouterr()
    assert main(["compile", str(data), *data_options(), "--out", str(out), "--base-url", server]) == 2
    error = capsys.readouterr().err
    assert f"--out {out} holds a finished run (its optimizer stopped after iteration 1: knn:" in error
    assert "--resume" not in error


@pytest.mark.parametrize("saved", ["program.json", "report/index.html"])
def test_a_new_compile_into_an_out_holding_files_it_would_write_is_refused_naming_one(tmp_path, data, capsys, saved):  # noqa: F811
    out = tmp_path / "tour"  # laid out as the README tour saves a program and its report from Python
    (out / saved).parent.mkdir(parents=True)
    (out / saved).write_text("kept", encoding="utf-8")
    sent = []
    with serve(lambda request: sent.append(request) or reply(request)) as base_url:
        assert main(["compile", str(data), *data_options(), "--out", str(out), "--base-url", base_url]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0  # one line
    assert f"--out {out} holds {saved}" in error
    assert "pass --force to replace it, or choose another --out" in error
    assert (out / saved).read_text(encoding="utf-8") == "kept"
    assert sorted(path.name for path in out.rglob("*") if path.is_file()) == [Path(saved).name]  # nothing written
    assert sent == []


def test_force_replaces_a_saved_program_and_report(tmp_path, server, data):  # noqa: F811
    out = tmp_path / "run"
    (out / "report").mkdir(parents=True)
    (out / "program.json").write_text("kept", encoding="utf-8")
    (out / "report" / "index.html").write_text("kept", encoding="utf-8")
    compile_to(tmp_path, server, data, "--force")
    assert json.loads((out / "program.json").read_text(encoding="utf-8"))["format"].startswith("promptgraph")
    assert (out / "report" / "index.html").read_text(encoding="utf-8") != "kept"


def test_force_beside_resume_still_resumes(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    capsys.readouterr()
    assert main(["compile", "--resume", str(out), "--iterations", "3", "--force"]) == 0
    assert json.loads((out / "checkpoint.json").read_text())["iteration"] == 3


def test_the_same_command_again_after_a_run_killed_before_its_first_checkpoint_runs(tmp_path, server, data):  # noqa: F811
    out = tmp_path / "run"  # what such a run leaves: its settings and its journal, no checkpoint
    arguments = ["compile", str(data), *data_options(), "--out", str(out), "--base-url", server, "--iterations", "1"]
    out.mkdir()
    (out / "command.json").write_text("{}", encoding="utf-8")
    (out / "ledger-journal.jsonl").write_text("", encoding="utf-8")
    assert main(arguments) == 0  # as the interrupt advised: "run the same command again"
    assert (out / "program.json").exists()


def test_the_same_command_again_keeps_the_paid_calls_the_killed_run_journaled(tmp_path, server, data):  # noqa: F811
    out = tmp_path / "run"
    arguments = ["compile", str(data), *data_options(), "--out", str(out), "--base-url", server, "--iterations", "1"]
    out.mkdir()
    (out / "command.json").write_text("{}", encoding="utf-8")
    line = {"model": "claude-haiku-5-5", "tag": "validate", "usage": {"input_tokens": 100, "output_tokens": 5}}
    journal = "".join(json.dumps(line) + "\n" for _ in range(3))
    (out / "ledger-journal.jsonl").write_text(journal, encoding="utf-8")
    assert main(arguments) == 0
    assert (out / "ledger-journal.1.jsonl").read_text(encoding="utf-8") == journal
