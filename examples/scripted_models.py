"""Scripted stand-ins for Claude, so the insincere-questions example runs with no key.

They are toys, said plainly: the "forward model" calls a question insincere when it
contains a cue word that its prompt lists; the "critic" reads the mistakes in its prompt
and names words that mark the misjudged questions; the "rewriter" adds those words to
the cue list. Training therefore really does improve the prompt, through every part of
promptgraph's loop (sampling, forward, metrics, backward, rewrite, validation, report),
but the numbers say nothing about what Claude would do.
"""

from __future__ import annotations

import collections
import json
import re

from promptgraph import Request, ScriptedLM, prompts

CUES = re.compile(r"Cue words: \[(.*?)\]")
WORD = re.compile(r"[a-z']{4,}")
COMMON = set(
    "what which when where there their about would could should does have your with from this that they them into".split()
)


def cue_words(prompt: str) -> list[str]:
    found = CUES.search(prompt)
    return [word.strip() for word in found.group(1).split(",") if word.strip()] if found else []


def forward(request: Request) -> str:
    prompt = request.system + "\n" + request.messages[-1].content
    if "<label>" not in prompt:
        return "This question seems fine to me."  # the format was never asked for: unparsed
    question = request.messages[-1].content.split("\n\n")[0].lower()  # the input comes first, the format last
    hits = [word for word in cue_words(prompt) if word in question]
    label = "insincere" if hits else "sincere"
    return f"Cues found: {', '.join(hits) or 'none'}.\nLabel: <label>{label}</label>"


def critic(request: Request) -> str:
    shown = prompts.read(request.messages[0].content)  # what the critic's prompt shows, from its markup
    wrong = [e.inputs["text"] for e in shown.examples if not e.correct and e.expected == "insincere"]
    right = [e.inputs["text"] for e in shown.examples if e.correct and e.expected == "sincere"]
    # sorted: a set's order changes between processes, and ties in most_common keep the order counted
    missed = collections.Counter(w for text in wrong for w in sorted(set(WORD.findall(text.lower())) - COMMON))
    fine = {w for text in right for w in WORD.findall(text.lower())}
    words = [word for word, _ in missed.most_common(12) if word not in fine][:6]
    name = next(name for name in shown.values if name.endswith(".system"))
    advice = f"Add these cue words: [{', '.join(words)}]" if words else "No clear cue words."
    return json.dumps(
        {"critique": f"Insincere questions were missed. {advice}", "parameters": {name: advice}, "inputs": {}}
    )


def rewriter(request: Request) -> str:
    prompt = request.messages[0].content
    name, value = next((n, v) for n, v in prompts.read(prompt).values.items() if n.endswith(".system"))
    suggested = [w for line in re.findall(r"Add these cue words: \[(.*?)\]", prompt) for w in line.split(", ") if w]
    cues = list(dict.fromkeys(cue_words(value) + suggested))
    body = (
        CUES.sub("", value)
        .replace("End with Label: <label>sincere</label> or Label: <label>insincere</label>.", "")
        .strip()
    )
    new = f"{body}\nA question is insincere when it uses these cue words. Cue words: [{', '.join(cues)}]\n"
    new += "End with Label: <label>sincere</label> or Label: <label>insincere</label>."
    return json.dumps({"reasoning": f"added {len(suggested)} cue words", "values": {name: new.strip()}})


def forward_lm() -> ScriptedLM:
    return ScriptedLM(respond=forward, model="scripted-forward")


def optimizer_lm() -> ScriptedLM:
    return ScriptedLM(
        respond=lambda request: critic(request) if request.tag == "critic" else rewriter(request),
        model="scripted-optimizer",
    )


def respond(request: Request) -> str:
    """Every stand-in by the request's tag, for the loopback server from the shell:

    promptgraph serve-test --port 8080 --respond examples/scripted_models.py:respond
    """
    if request.tag == "critic":
        return critic(request)
    if request.tag == "rewrite":
        return rewriter(request)
    return forward(request)
