import json
import sys

import pytest

from promptgraph.cli import main
from promptgraph.data import stratified_split
from tests.cli.test_train import compile_to, data, data_options, server  # noqa: F401  # fixtures
from tests.scenario import questions

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
