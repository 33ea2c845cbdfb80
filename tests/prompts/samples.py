"""Keyword arguments each render function accepts, and the render functions by template name."""

from __future__ import annotations

import attrs

from promptgraph import prompts
from promptgraph.data import Example
from promptgraph.parameter import Feedback


@attrs.frozen
class Attempt:
    value: str
    why: str


@attrs.frozen
class Point:
    values: dict[str, str]
    score: float


PARAMETERS = [
    {
        "name": "classify.system",
        "role": "system prompt",
        "value": 'Say "yes" or <label>no</label>.\nBe brief.',
        "constraints": ["must ask for <label>X</label>"],
        "feedback": [Feedback("critic of classify", "mention sarcasm")],
        "rejected": [Attempt("Say yes.", "scored worse")],
    },
    {"name": "classify.prefix", "role": "text before the input", "value": "", "constraints": [], "feedback": [],
     "rejected": []},
]  # fmt: skip
EXAMPLES = [
    Example({"text": "Why are all of them so lazy?"}, "insincere"),
    Example({"text": "How?", "b": "x"}, 'a "b"'),
]
CRITIC_EXAMPLES = [
    {"verdict": "WRONG", "score": 0.0, "feedback": "expected 'insincere', got 'sincere'\nand why",
     "expected": "insincere", "answered": "sincere", "inputs": {"text": "Why all?\nSecond line"},
     "outputs": {}, "note": "a note", "always": True, "reply": "Label: sincere", "error": None},
    {"verdict": "correct", "score": 1.0, "feedback": "", "expected": "sincere", "answered": "sincere",
     "inputs": {"text": "How?"}, "outputs": {"a": "1", "b": "2"}, "note": None, "always": False, "reply": "r",
     "error": "cut short"},
]  # fmt: skip

SAMPLES = {
    "critic": (
        prompts.critic,
        dict(node="classify", description="classifies a text", parameters=PARAMETERS,
             upstream_inputs=[("note", "note.note")], downstream=[{"source": "critic of next", "text": "too vague"}],
             summary="accuracy 0.5", examples=CRITIC_EXAMPLES, limit=500, words=100),
    ),
    "rewrite": (
        prompts.rewrite,
        dict(node="classify", description="classifies a text", summary="accuracy 0.5", parameters=PARAMETERS,
             limit=500, edits=False),
    ),
    "paraphrase": (prompts.paraphrase, dict(parameters=PARAMETERS)),
    "opro": (
        prompts.opro,
        dict(parameters=PARAMETERS, trajectory=[Point({"classify.system": "a"}, 0.25), Point({"classify.system": ""}, 0.5)],
             examples=EXAMPLES, count=3),
    ),
    "propose": (
        prompts.propose,
        dict(name="classify.system", role="system prompt", constraints=["x"], value="Be good.", examples=EXAMPLES,
             count=4),
    ),
    "synthesize_generate": (
        prompts.synthesize_generate,
        dict(name="correct", description="a right answer", others=["incorrect"], examples=["Q? A."], count=5),
    ),
    "synthesize_diversify": (
        prompts.synthesize_diversify, dict(name="correct", description="", summaries=["one", "two"], count=5)
    ),
    "synthesize_expand": (
        prompts.synthesize_expand,
        dict(name="correct", description="a right answer", examples=["Q? A."], summaries=["one", "two"]),
    ),
}  # fmt: skip
