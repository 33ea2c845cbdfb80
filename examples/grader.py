"""An automatic grader with several inputs: (question, reference answer, student answer) -> correct / wrong.

Simple misspellings, nicknames and accepted short forms count as correct ("JFK", "Jack
Kennedy", "John F. Kenedy" for John F. Kennedy); a different person, thing or number is
wrong ("FDR", "Jacqueline Kennedy", "Robert F. Kennedy"). The labelled set is
`examples/data/grader.csv` (53 rows, with a note per row for the critic).

    promptgraph compile examples/data/grader.csv --program examples/grader.py:build \\
        --inputs question,reference_answer,student_answer --note-column note --id-column id \\
        --labels correct,wrong --samples-per-label 10 --val-per-label 6 --out runs/grader
    promptgraph predict runs/grader/program.json answers.csv --inputs question,reference_answer,student_answer

Offline, with scripted stand-ins for the models (a toy: the "model" compares strings), serve
them on the loopback server and add `--base-url http://127.0.0.1:8080` to the commands above:

    promptgraph serve-test --port 8080 --respond examples/grader.py:scripted
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import promptgraph as pg
from promptgraph import prompts

DATA = Path(__file__).resolve().parent / "data" / "grader.csv"
INPUTS = ("question", "reference_answer", "student_answer")


def build() -> pg.Program:
    """One classifier reading three inputs, starting from a plain instruction the optimizer refines."""
    grade = pg.Classify(
        ["correct", "wrong"],
        inputs=INPUTS,
        system="Grade the student's answer against the reference answer. "
        "End with Label: <label>correct</label> or Label: <label>wrong</label>.",
        description="grades a student's answer to a quiz question against the reference answer",
    )
    return pg.Program.of(grade, name="grade")


def examples() -> list[pg.Example]:
    return pg.load_examples(DATA, inputs=INPUTS, label="label", note="note", id="id")


# -- a scripted stand-in for the models: it shows the mechanics offline and knows nothing ----

RULE = "Simple misspellings of the reference answer are acceptable."


def scripted(request: pg.Request) -> str:
    """Forward: exact matches only, unless the prompt allows misspellings. Optimizer: asks for and adds that rule."""
    content = request.messages[-1].content
    if request.tag == "critic":
        name = next(name for name in prompts.read(content).values if name.endswith("system"))
        critique = {
            "critique": "Misspelt right answers are marked wrong.",
            "parameters": {name: "Accept misspellings."},
        }
        return json.dumps(critique | {"inputs": {}})
    if request.tag == "rewrite":
        name, value = next((n, v) for n, v in prompts.read(content).values.items() if n.endswith("system"))
        return json.dumps({"values": {name: f"{value} {RULE}"}})
    reference = re.search(r"Reference answer: (.*)", content).group(1).strip().lower()
    answer = re.search(r"Student answer: (.*)", content).group(1).strip().lower()
    close = difflib.SequenceMatcher(None, reference, answer).ratio() >= 0.85
    correct = answer == reference or (RULE in request.system and close)
    return f"Label: <label>{'correct' if correct else 'wrong'}</label>"
