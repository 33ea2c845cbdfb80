import csv
import json
import random
import re

from promptgraph import prompts
from promptgraph.cli import main
from promptgraph.testing import MessagesServer

RULE = "An answer marked wrong is incorrect."
FORMAT = "End with Label: <label>correct</label> or Label: <label>incorrect</label>."


def world(request):
    """Synthesis, critique, rewrite and the classifier, told apart by their system prompts."""
    prompt = request.messages[-1].content
    shown = prompts.read(prompt)
    if request.tag == "synthesize expand":
        verdict = "right" if shown.class_name == "correct" else "wrong"
        return json.dumps({"examples": [f"Q: {s}? A: a {verdict} answer." for s in shown.summaries]})
    if request.tag.startswith("synthesize"):
        rng = random.Random(prompt)  # 10: the most one call asks for; synthesize keeps what it asked for
        return json.dumps({"summaries": [" ".join(rng.sample([f"w{n}" for n in range(300)], 5)) for _ in range(10)]})
    if request.tag == "critic":
        name = next(iter(shown.values))
        return json.dumps(
            {"critique": "wrong answers pass", "parameters": {name: "say wrong is incorrect"}, "inputs": {}}
        )
    if request.tag == "rewrite":
        name, value = next(iter(shown.values.items()))
        return json.dumps({"values": {name: f"{RULE} {value or FORMAT}".strip()}})
    label = "incorrect" if RULE in request.system and "wrong" in prompt else "correct"
    return f"Label: <label>{label}</label>"


def write_classes(tmp_path):
    classes = tmp_path / "classes.json"
    classes.write_text(
        json.dumps({"correct": "A question with a right answer.", "incorrect": "A question with a wrong answer."})
    )
    examples = tmp_path / "real.jsonl"
    real = {
        "correct": [f"Q: real question {n}? A: a right answer." for n in range(6)],
        "incorrect": [f"Q: real question {n + 10}? A: a wrong answer." for n in range(6)],
    }
    examples.write_text("".join(json.dumps({"class_name": k, "examples": v}) + "\n" for k, v in real.items()))
    return classes, examples


def test_synthesize_writes_a_balanced_labelled_csv(tmp_path, capsys):
    classes, _ = write_classes(tmp_path)
    output = tmp_path / "train.csv"
    with MessagesServer(world) as server:
        code = main(
            [
                "synthesize",
                str(classes),
                "--output",
                str(output),
                "--per-class",
                "12",
                "--base-url",
                server.base_url,
                "--no-cache",
            ]
        )
    assert code == 0
    rows = list(csv.DictReader(output.open()))
    assert sorted(r["label"] for r in rows) == ["correct"] * 12 + ["incorrect"] * 12
    printed = capsys.readouterr().out
    assert "summaries" in printed and "wrote 24 examples" in printed


def test_compile_from_classes_reports_real_accuracy_apart_and_keeps_the_real_test_out(tmp_path, capsys):
    classes, examples = write_classes(tmp_path)
    out = tmp_path / "run"
    arguments = ["compile", "--classes", str(classes), "--examples", str(examples), "--per-class", "30",
                 "--iterations", "1", "--samples-per-label", "8", "--val-per-label", "6", "--system", FORMAT,
                 "--out", str(out), "--no-cache"]  # fmt: skip
    with MessagesServer(world) as server:
        assert main([*arguments, "--base-url", server.base_url]) == 0
    shown = {
        question
        for request in server.seen
        if request.tag.startswith("synthesize")
        for question in re.findall(r"real question \d+", request.messages[-1].content)
    }
    assert len(shown) == 6  # the half kept for training; the held-out half never reached the writer
    printed = capsys.readouterr().out
    assert "accuracy on the synthetic validation set: 1.000" in printed
    assert "accuracy on real held-out examples:      1.000 (6 examples)" in printed
    saved = json.loads((out / "program.json").read_text())
    assert saved["meta"]["real_test"]["count"] == 6
    synthetic = {row["text"] for row in csv.DictReader((out / "synthetic.csv").open())}
    real = {t for line in examples.read_text().splitlines() for t in json.loads(line)["examples"]}
    assert not synthetic & real


def test_synthesis_that_paid_for_replies_but_kept_nothing_is_a_failed_run_not_a_refusal(tmp_path, capsys):
    classes, _ = write_classes(tmp_path)
    with MessagesServer(lambda request: "nothing usable") as server:
        arguments = ["synthesize", str(classes), "--output", str(tmp_path / "train.csv"), "--per-class", "2"]
        code = main([*arguments, "--base-url", server.base_url, "--no-cache"])
        assert server.seen  # the calls were made: exit 2 would say the input was refused before any
    assert code == 1
    assert "no usable synthetic examples" in capsys.readouterr().err
