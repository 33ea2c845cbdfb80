"""The grader example: several inputs, a dataset we wrote, trained through the CLI against a loopback server."""

import difflib
import json
import re
import sys
from pathlib import Path

import pytest

from promptgraph import prompts
from promptgraph.cli import main
from tests.messages_server import serve

ROOT = Path(__file__).resolve().parents[2]
RULE = "Simple misspellings of the reference answer are acceptable."


@pytest.fixture
def grader(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import grader

    yield grader
    sys.modules.pop("grader", None)


def scripted(request):
    """Forward: exact matches only, unless the prompt allows misspellings. Optimizer: asks for and adds that rule."""
    content = request.messages[-1].content
    if request.tag == "critic":
        name = next(name for name in prompts.read(content).values if name.endswith("system"))
        return json.dumps(
            {
                "critique": "Misspelt right answers are marked wrong.",
                "parameters": {name: "Accept misspellings."},
                "inputs": {},
            }
        )
    if request.tag == "rewrite":
        name, value = next((n, v) for n, v in prompts.read(content).values.items() if n.endswith("system"))
        return json.dumps({"values": {name: f"{value} {RULE}"}})
    reference = re.search(r"Reference answer: (.*)", content).group(1).strip().lower()
    answer = re.search(r"Student answer: (.*)", content).group(1).strip().lower()
    close = difflib.SequenceMatcher(None, reference, answer).ratio() >= 0.85
    correct = answer == reference or (RULE in request.system and close)
    return f"Label: <label>{'correct' if correct else 'wrong'}</label>"


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
    with serve(scripted) as base_url:
        arguments = [
            "compile", str(ROOT / "examples" / "data" / "grader.csv"),
            "--program", str(ROOT / "examples" / "grader.py") + ":build",
            "--inputs", "question,reference_answer,student_answer", "--note-column", "note", "--id-column", "id",
            "--labels", "correct,wrong", "--samples-per-label", "10", "--val-per-label", "6", "--iterations", "2",
            "--base-url", base_url, "--out", str(out),
        ]  # fmt: skip
        assert main(arguments) == 0
        saved = json.loads((out / "program.json").read_text())
        assert RULE in saved["nodes"][0]["parameters"]["system"]["value"]
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
