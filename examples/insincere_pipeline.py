"""The insincere-questions task as a two-module pipeline, trained end to end against the label.

    premises: question -> the premises it takes for granted, and the asker's intent
    classify: question + premises + intent -> sincere / insincere

Only `classify` is scored; `premises` has no label of its own and learns only from the
feedback that the critic of `classify` sends back to it through the graph.

    promptgraph compile ../shared/data/qiqc_truncated.csv --program examples/insincere_pipeline.py:build \\
        --text-column question_text --label-column target --id-column qid \\
        --labels 0=sincere,1=insincere --out runs/insincere-pipeline
"""

from __future__ import annotations

import promptgraph as pg


def build() -> pg.Program:
    program = pg.Program(inputs=("text",))
    program.add(
        "premises",
        pg.Generate(
            inputs=("text",),
            outputs=("premises", "intent"),
            system="List the premises the question takes for granted, then say what the asker wants.",
            description="states the premises a Quora question takes for granted and the asker's intent",
        ),
    )
    program.add(
        "classify",
        pg.Classify(
            ["sincere", "insincere"],
            inputs=("text", "premises", "intent"),
            system="Decide whether the question is sincere or insincere, using its premises and intent. "
            "End with Label: <label>sincere</label> or Label: <label>insincere</label>.",
            description="decides from a question, its premises and intent whether it is sincere or insincere",
        ),
        premises="premises.premises",
        intent="premises.intent",
    )
    return program
