"""An automatic grader with several inputs: (question, reference answer, student answer) -> correct / wrong.

Simple misspellings, nicknames and accepted short forms count as correct ("JFK", "Jack
Kennedy", "John F. Kenedy" for John F. Kennedy); a different person, thing or number is
wrong ("FDR", "Jacqueline Kennedy", "Robert F. Kennedy"). The labelled set is
`examples/data/grader.csv` (53 rows, with a note per row for the critic).

    promptgraph compile examples/data/grader.csv --program examples/grader.py:build \\
        --inputs question,reference_answer,student_answer --note-column note --id-column id \\
        --labels correct,wrong --samples-per-label 10 --val-per-label 6 --out runs/grader
    promptgraph predict runs/grader/program.json answers.csv --inputs question,reference_answer,student_answer
"""

from __future__ import annotations

from pathlib import Path

import promptgraph as pg

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
