"""An --out that holds a run is never written over by accident: resume it, train it further, or --force."""

import json

from promptgraph.cli import main
from tests.cli.test_train import compile_to, data, data_options, server  # noqa: F401  # fixtures


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
