"""The two-module pipeline: the first module has no label and learns only from feedback that reaches it."""

import json
import re
from pathlib import Path

from promptgraph.cli import main
from tests.messages_server import serve
from tests.scenario import KEY_PHRASE, graph_critic, graph_rewriter, questions

ROOT = Path(__file__).resolve().parents[2]


def scripted(request):
    """premises notes a group only once its prompt says generalisations matter; classify reads that note."""
    if request.tag == "critic":
        return graph_critic(request)
    if request.tag == "rewrite":
        return graph_rewriter(request)
    content = request.messages[-1].content
    if "<premises>" in content:
        group = KEY_PHRASE in request.system and " all " in content
        return f"<premises>{'that a whole group shares a fault' if group else 'none worth noting'}</premises><intent>to ask</intent>"
    insincere = "whole group" in content
    return f"Label: <label>{'insincere' if insincere else 'sincere'}</label>"


def test_the_pipeline_trains_its_unlabelled_first_module_end_to_end(tmp_path, capsys):
    data = tmp_path / "q.csv"
    data.write_text(
        "qid,question_text,target\n"
        + "".join(f"{e.id},{e.inputs['text']},{int(e.label == 'insincere')}\n" for e in questions(40))
    )
    out = tmp_path / "run"
    with serve(scripted) as base_url:
        arguments = [
            "compile", str(data), "--program", str(ROOT / "examples" / "insincere_pipeline.py") + ":build",
            "--text-column", "question_text", "--label-column", "target", "--id-column", "qid",
            "--labels", "0=sincere,1=insincere", "--samples-per-label", "6", "--val-per-label", "5",
            "--iterations", "2", "--base-url", base_url, "--out", str(out),
        ]  # fmt: skip
        assert main(arguments) == 0
    saved = json.loads((out / "program.json").read_text())
    premises = next(node for node in saved["nodes"] if node["name"] == "premises")
    assert KEY_PHRASE in premises["parameters"]["system"]["value"]
    first = saved["meta"]["history"][1]["critiques"]
    premises_critique = next(c for c in first if c["node"] == "premises")
    assert re.search(r"critic of classify, on premises\.\w+", premises_critique["received"][0]["source"])
    assert saved["meta"]["metrics"]["score"] == 1.0
