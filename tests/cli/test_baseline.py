import csv
import json
import os
import subprocess
import sys

import pytest

import promptgraph as pg
from promptgraph.baseline import CANNOT_FIT
from promptgraph.cli import main
from promptgraph.data import stratified_split
from promptgraph.testing import MessagesServer
from tests.child import promptgraph_command
from tests.cli.test_train import ROOT, compile_to, data, data_options, models, reply, server  # noqa: F401  # fixtures
from tests.scenario import FORMAT, questions

LINE = "baseline (TF-IDF + logistic regression, fitted on 30 training examples): validation accuracy"


def test_compile_prints_the_baseline_beside_the_program_and_records_its_training_rows(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    printed = capsys.readouterr().out
    assert LINE in printed and "; the program: accuracy 1.000" in printed
    meta = json.loads((out / "program.json").read_text())["meta"]
    _, valset = stratified_split(questions(40), 5, seed=0)  # the examples compile validated on
    assert meta["baseline"]["trained_on"] == 30 and len(meta["training_data"]["ids"]) == 30
    assert not set(meta["training_data"]["ids"]) & {example.id for example in valset}


def test_compiles_report_shows_the_baseline_in_its_summary(tmp_path, server, data):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    page = (out / "report" / "index.html").read_text()
    summary = page[page.index('<section id="summary"') : page.index("</section>", page.index('<section id="summary"'))]
    assert 'id="baseline"' in summary and "TF-IDF" in summary and "fitted on 30 training examples" in summary


def evaluate(out, data, server, *extra):  # noqa: F811
    arguments = ["evaluate", str(out / "program.json"), str(data), *data_options(), "--base-url", server]
    return main([*arguments, "--model", "scripted-haiku", *extra])


WITHOUT_ID = [option for option in data_options() if option not in ("--id-column", "qid")]


@pytest.mark.parametrize("options", [data_options(), WITHOUT_ID], ids=["with-id-column", "without-id-column"])
def test_evaluate_fits_the_baseline_on_the_programs_training_rows_and_says_which_were_scored(
    tmp_path,
    server,  # noqa: F811
    data,  # noqa: F811
    capsys,
    options,
):
    """Without --id-column too: compile recorded the column the training rows' ids are in."""
    out = compile_to(tmp_path, server, data)
    capsys.readouterr()
    arguments = ["evaluate", str(out / "program.json"), str(data), *options, "--base-url", server]
    assert main([*arguments, "--model", "scripted-haiku"]) == 0
    printed = capsys.readouterr().out
    assert "baseline (TF-IDF + logistic regression, fitted on 30 training examples): accuracy" in printed
    assert "(30 of the 40 examples scored were training examples: both scores flatter)" in printed


def test_evaluate_without_known_training_data_says_how_to_give_it(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    saved = json.loads((out / "program.json").read_text())
    del saved["meta"]["training_data"]
    (out / "program.json").write_text(json.dumps(saved))
    capsys.readouterr()
    assert evaluate(out, data, server) == 0
    assert "baseline skipped: no training data known; give --baseline-data FILE" in capsys.readouterr().out
    assert evaluate(out, data, server, "--baseline-data", str(data)) == 0
    assert "fitted on 40 training examples" in capsys.readouterr().out


def test_compile_without_scikit_learn_prints_the_note_instead(tmp_path, server, data, capsys, monkeypatch):  # noqa: F811
    for name in [name for name in sys.modules if name == "sklearn" or name.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    compile_to(tmp_path, server, data)
    assert "baseline skipped: TF-IDF + logistic regression needs scikit-learn" in capsys.readouterr().out


def test_evaluate_says_so_when_no_row_has_an_id_compile_trained_on(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    saved = json.loads((out / "program.json").read_text())
    saved["meta"]["training_data"]["ids"] = ["not-a-row"]
    (out / "program.json").write_text(json.dumps(saved))
    capsys.readouterr()
    assert evaluate(out, data, server) == 0
    assert "has an id compile trained on; give --baseline-data FILE" in capsys.readouterr().out


@pytest.fixture
def emoji(tmp_path):
    """Texts TF-IDF finds no word in (an emoji and a digit): scikit-learn's "empty vocabulary"."""
    path = tmp_path / "emoji.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["qid", "question_text", "target"])
        writer.writerows([f"e{index}", f"\N{GRINNING FACE} {index % 10}", index % 2] for index in range(40))
    return path


def test_a_baseline_that_cannot_be_fitted_is_skipped_and_the_run_is_saved_as_usual(tmp_path, emoji):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMPTGRAPH_CACHE_DIR": str(tmp_path / "cache")}
    with MessagesServer(reply) as loopback:
        command = promptgraph_command("compile", str(emoji), *data_options(), *models(loopback.base_url))
        command += ["--iterations", "1", "--samples-per-label", "4", "--val-per-label", "3", "--out", str(out)]
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    warnings = [line for line in finished.stderr.splitlines() if CANNOT_FIT in line]
    assert warnings == [f"promptgraph: warning: {CANNOT_FIT}: empty vocabulary; perhaps the documents only contain "
                        "stop words"]  # fmt: skip
    assert f"program: {out / 'program.json'}" in finished.stdout and "iteration  val accuracy" in finished.stdout
    assert json.loads((out / "program.json").read_text())["meta"]["baseline"]["note"].startswith(CANNOT_FIT)
    assert (out / "report" / "index.html").exists() and (out / "checkpoint.json").exists()


def test_compile_says_the_baseline_cannot_be_fitted_before_it_sends_anything(tmp_path, emoji, capsys):
    with MessagesServer(reply) as loopback:
        loopback.fail_always("401")  # the pre-flight probe fails: the run ends before its first call
        arguments = ["compile", str(emoji), *data_options(), *models(loopback.base_url), "--out", str(tmp_path / "run")]
        assert main(arguments) == 1
        assert not loopback.seen
    assert f"promptgraph: warning: {CANNOT_FIT}: empty vocabulary" in capsys.readouterr().err


def test_evaluate_prints_its_scores_when_the_baseline_cannot_be_fitted(tmp_path, server, emoji, capsys):  # noqa: F811
    program = pg.Program.of(pg.Classify(["sincere", "insincere"], system=FORMAT), name="classify")
    saved = program.save(tmp_path / "program.json")
    arguments = ["evaluate", str(saved), str(emoji), *data_options(), "--base-url", server, "--model", "scripted-haiku"]
    assert main([*arguments, "--baseline-data", str(emoji)]) == 0
    captured = capsys.readouterr()
    assert "true \\ predicted" in captured.out and f"{CANNOT_FIT}: empty vocabulary" in captured.out
    assert captured.err.count(CANNOT_FIT) == 1
