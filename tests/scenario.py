"""A scripted world in which training can be seen to work.

The forward model gets insincere questions right only when its prompt contains the
KEY_PHRASE; the critic says so when it sees mistakes; the rewriter adds the phrase when
the feedback asks for it. So compile must raise validation accuracy, and the history
must show the critique that caused the change.
"""

from __future__ import annotations

import json
import re

from promptgraph import Classify, Example, Program, Request, ScriptedLM

LABELS = ("sincere", "insincere")
KEY_PHRASE = "Sweeping generalisations about a group are insincere."
FORMAT = "End with Label: <label>sincere</label> or Label: <label>insincere</label>."
CRITIQUE = (
    "The prompt never says that generalisations about groups are insincere, so every such question is called sincere."
)


def questions(count: int = 40) -> list[Example]:
    """Half sincere, half insincere; insincere ones contain the word 'all'."""
    examples = []
    for index in range(count):
        if index % 2:
            examples.append(Example({"text": f"Why are all group{index} people so bad?"}, "insincere", id=f"q{index}"))
        else:
            examples.append(Example({"text": f"How do I bake bread number {index}?"}, "sincere", id=f"q{index}"))
    return examples


def forward_reply(request: Request) -> str:
    prompt = request.system + request.messages[-1].content
    if "<label>" not in prompt:
        return "I think this is a fine question."  # no format asked for: unparsed
    text = request.messages[-1].content
    insincere = " all " in text and KEY_PHRASE in prompt
    return f"Reasoning done. Label: <label>{'insincere' if insincere else 'sincere'}</label>"


def optimizer_reply(request: Request) -> str:
    prompt = request.messages[0].content
    if request.tag == "critic":
        name = re.search(r"### `([\w.]+system)`", prompt).group(1)
        return json.dumps(
            {
                "critique": CRITIQUE,
                "parameters": {name: "State that generalisations about groups are insincere."},
                "inputs": {},
            }
        )
    current = re.search(r"## `([\w.]+system)`.*?<value>\n(.*?)\n</value>", prompt, re.DOTALL)
    name, value = current.group(1), current.group(2)
    value = "" if value == "(empty)" else value
    if "generalisations" in prompt and KEY_PHRASE not in value:
        value = f"{value} {KEY_PHRASE}" if FORMAT in value else f"{value} {KEY_PHRASE} {FORMAT}"
        value = value.strip()
    return "Here you go:\n" + json.dumps({"reasoning": "add the missing rule", "values": {name: value}})


def classifier(system: str = FORMAT) -> Program:
    return Program.of(Classify(LABELS, system=system), name="classify")


def forward_lm(**options) -> ScriptedLM:
    return ScriptedLM(respond=forward_reply, model="claude-haiku-5-5", **options)


def optimizer_lm(**options) -> ScriptedLM:
    return ScriptedLM(respond=optimizer_reply, model="claude-opus-5-5", **options)
