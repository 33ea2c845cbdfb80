"""The grader example: several inputs, a dataset we wrote, trained through the CLI against a loopback server."""

import json
import sys
from pathlib import Path

import pytest

from promptgraph.cli import main
from tests.messages_server import serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def grader(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import grader

    yield grader
    sys.modules.pop("grader", None)


def test_the_dataset_has_both_labels_notes_and_the_kennedy_cases(grader):
    examples = grader.examples()
    assert len(examples) == 53
    assert {e.label for e in examples} == {"correct", "wrong"}
    kennedy = {e.inputs["student_answer"]: e.label for e in examples if "35th" in e.inputs["question"]}
    assert kennedy["John F. Kenedy"] == kennedy["JFK"] == kennedy["Jack Kennedy"] == "correct"
    assert kennedy["FDR"] == kennedy["Jacqueline Kennedy"] == kennedy["Robert F. Kennedy"] == "wrong"
    assert all(e.note is not None for e in examples if e.inputs["student_answer"] == "John F. Kenedy")


def test_the_grader_compiles_through_the_cli_and_learns_to_accept_misspellings(grader, tmp_path, capsys):
    out = tmp_path / "run"
    with serve(grader.scripted) as base_url:
        arguments = [
            "compile", str(ROOT / "examples" / "data" / "grader.csv"),
            "--program", str(ROOT / "examples" / "grader.py") + ":build",
            "--inputs", "question,reference_answer,student_answer", "--note-column", "note", "--id-column", "id",
            "--labels", "correct,wrong", "--samples-per-label", "10", "--val-per-label", "6", "--iterations", "2",
            "--base-url", base_url, "--out", str(out),
        ]  # fmt: skip
        assert main(arguments) == 0
        saved = json.loads((out / "program.json").read_text())
        assert grader.RULE in saved["nodes"][0]["parameters"]["system"]["value"]
        assert saved["meta"]["history"][0]["val"]["score"] < saved["meta"]["metrics"]["score"]
        capsys.readouterr()
        answers = tmp_path / "answers.csv"
        answers.write_text("question,reference_answer,student_answer\nCapital of Peru?,Lima,Lma\n")
        command = [
            "predict",
            str(out / "program.json"),
            str(answers),
            "--inputs",
            "question,reference_answer,student_answer",
        ]
        assert main([*command, "--base-url", base_url]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "1,correct,ok"
