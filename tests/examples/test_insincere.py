"""The seed's classifier example, run offline on the shared QIQC sample with scripted models."""

import json
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "qiqc_truncated.csv"


@pytest.fixture
def run_example(monkeypatch, tmp_path):
    def run(*arguments):
        monkeypatch.setattr(sys, "argv", ["insincere.py", *arguments])
        with pytest.raises(SystemExit) as exit:
            runpy.run_path(str(ROOT / "examples" / "insincere.py"), run_name="__main__")
        return exit.value.code

    return run


def test_the_example_trains_an_untrained_program_that_already_parses_and_saves_it(run_example, tmp_path, capsys):
    assert DATA.exists(), f"the shared QIQC sample is expected at {DATA}"
    out = tmp_path / "run"
    assert run_example("--scripted", "--iterations", "3", "--samples-per-label", "40", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "validation accuracy 0.500 ->" in printed  # every answer parses before training: a real baseline
    saved = json.loads((out / "program.json").read_text())
    assert saved["meta"]["history"][0]["val"]["unparsed"] == 0
    assert saved["meta"]["metrics"]["score"] > 0.5
    assert (out / "report" / "index.html").exists()


def test_the_example_runs_on_any_csv_given_its_columns(run_example, tmp_path, capsys):
    data = tmp_path / "mine.csv"
    rows = ["id,body,y"] + [
        f"r{i},{'Why do all cats lie?' if i % 2 else 'How do I knit?'} {i},{i % 2}" for i in range(40)
    ]
    data.write_text("\n".join(rows) + "\n")
    arguments = ["--scripted", "--data", str(data), "--text-column", "body", "--label-column", "y", "--id-column", "id"]
    assert (
        run_example(
            *arguments,
            "--labels",
            "0=fine,1=bad",
            "--iterations",
            "2",
            "--samples-per-label",
            "8",
            "--out",
            str(tmp_path / "o"),
        )
        == 0
    )
    assert "validation accuracy" in capsys.readouterr().out
