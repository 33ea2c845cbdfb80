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


def test_the_scripted_example_gives_the_same_run_whatever_the_hash_seed(tmp_path):
    """Python randomises the order of a set of strings per process; the stand-ins must not depend on it."""
    import os
    import subprocess

    def run(hash_seed: str) -> str:
        environment = os.environ | {"PYTHONHASHSEED": hash_seed}
        command = [sys.executable, str(ROOT / "examples" / "insincere.py"), "--scripted", "--iterations", "3",
                   "--samples-per-label", "40", "--out", str(tmp_path / hash_seed)]  # fmt: skip
        subprocess.run(command, env=environment, capture_output=True, text=True, check=True, cwd=ROOT)
        return json.dumps(
            json.loads((tmp_path / hash_seed / "program.json").read_text())["meta"]["history"][-1]["values"]
        )

    assert run("1") == run("2") == run("3")


def test_the_scripted_example_keeps_its_program_out_of_the_real_runs_directory(run_example, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_example("--scripted", "--iterations", "1", "--samples-per-label", "8") == 0
    assert (tmp_path / "runs" / "insincere-scripted" / "program.json").exists()
    assert not (tmp_path / "runs" / "insincere").exists()


def test_the_example_leaves_a_saved_program_alone_unless_forced(run_example, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "program.json").write_text('{"a": "trained program"}')
    assert run_example("--scripted", "--iterations", "1", "--samples-per-label", "8", "--out", str(out)) == 2
    assert "is there already; give another --out, or --force" in capsys.readouterr().err
    assert (out / "program.json").read_text() == '{"a": "trained program"}'
    assert run_example("--scripted", "--iterations", "1", "--samples-per-label", "8", "--out", str(out), "--force") == 0


def test_the_example_writes_nothing_while_a_compile_holds_the_directory(run_example, tmp_path, capsys):
    from promptgraph.lockfile import Lock

    out = tmp_path / "run"
    out.mkdir()
    with Lock.acquire(out / "run.lock", what=f"the run directory {out}"):
        assert run_example("--scripted", "--iterations", "1", "--samples-per-label", "8", "--out", str(out)) == 2
    assert "run directory" in capsys.readouterr().err
    assert not (out / "program.json").exists()
