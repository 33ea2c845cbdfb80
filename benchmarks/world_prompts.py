"""How a simulated world reads a forward request in whatever format its caller sent, and answers in it.

The worlds (world_rules.py, world_pipeline.py) decide *what* the forward model answers;
this file finds *what was asked* and writes the reply the caller's parser reads:

- the example being asked: the LAST example id in the last user message (few-shot demos
  are earlier turns and carry other ids);
- where rules count: the system prompt and the last user message (a trained prefix or
  suffix), never the earlier turns, so rule text inside demos is ignored;
- the output fields and the reply's layout:
  - DSPy's ChatAdapter (`[[ ## field ## ]]` ... `[[ ## completed ## ]]`) and JSONAdapter
    (a JSON object), both listing "Your output fields are:" in the system prompt;
  - promptgraph's JSONSchema (`output_config.format`: the schema's properties),
    LabelTag (`Label: <label>X</label>`), Tags (`<field>...</field>` layout lines), and
    Text (the reply is the one output).
Rules are found by their sentences after normalising case, punctuation and spacing, so a
rewrite that re-punctuates a rule still carries it.
"""

from __future__ import annotations

import json
import re

import attrs

from promptgraph.lm import Request

EXAMPLE_ID = re.compile(r"\b(?:ra|pb)-\d{4}\b")  # world_rules' and world_pipeline's example ids
_DSPY_OUTPUTS = re.compile(r"Your output fields are:\n(.*?)(?:\nAll interactions|\Z)", re.DOTALL)
_DSPY_FIELD = re.compile(r"^\d+\. `(\w+)`", re.MULTILINE)
_TAG_LAYOUT = re.compile(r"^<(\w+)>\.\.\.</\1>$", re.MULTILINE)
_DSPY_CHAT_END = "[[ ## completed ## ]]"
_DSPY_MARKER = re.compile(r"\[\[ ## (\w+) ## \]\]\n")


@attrs.frozen
class Asked:
    """One forward request, as a world needs it."""

    example_id: str | None  # None: no example of this world in the request
    instruction: str  # where rules count: the system prompt and the last user message
    question: str  # the last user message: the example's inputs (and a trained prefix or suffix)
    outputs: tuple[str, ...]  # the output fields asked for
    layout: str  # "dspy-chat", "dspy-json", "json", "label", "tags" or "text"


def read_forward(request: Request) -> Asked:
    question = request.messages[-1].content
    found = EXAMPLE_ID.findall(question)
    layout, outputs = _layout(request, question)
    return Asked(
        example_id=found[-1] if found else None,
        instruction=f"{request.system}\n{question}",
        question=question,
        outputs=outputs,
        layout=layout,
    )


def _layout(request: Request, question: str) -> tuple[str, tuple[str, ...]]:
    dspy = _DSPY_OUTPUTS.search(request.system)
    if dspy:
        fields = tuple(_DSPY_FIELD.findall(dspy.group(1)))
        chat = _DSPY_CHAT_END in request.system or _DSPY_CHAT_END in question
        return ("dspy-chat" if chat else "dspy-json"), fields
    if request.output_schema:
        return "json", tuple(request.output_schema.get("properties", {}))
    if "<label>" in question:
        return "label", ("label",)
    tags = tuple(_TAG_LAYOUT.findall(question))
    if tags:
        return "tags", tags
    return "text", ("text",)


def answer(asked: Asked, values: dict[str, str]) -> str:
    """The reply stating `values` (one per output field asked) in the layout the caller reads."""
    fields = {name: values.get(name, next(iter(values.values()))) for name in asked.outputs}
    if asked.layout == "dspy-chat":
        return "".join(f"[[ ## {name} ## ]]\n{value}\n\n" for name, value in fields.items()) + _DSPY_CHAT_END
    if asked.layout in ("dspy-json", "json"):
        return json.dumps(fields)
    if asked.layout == "label":
        return f"Label: <label>{fields['label']}</label>"
    if asked.layout == "tags":
        return "\n".join(f"<{name}>{value}</{name}>" for name, value in fields.items())
    return next(iter(fields.values()))


def dspy_inputs(question: str) -> dict[str, str]:
    """The input fields of a DSPy adapter's user message: `[[ ## name ## ]]` then the value."""
    parts = _DSPY_MARKER.split(question.split("\n\nRespond with")[0])
    return {name: value.strip() for name, value in zip(parts[1::2], parts[2::2], strict=True)}


def normalised(text: str) -> str:
    """Lower case, words only, single spaces: how rule sentences are matched."""
    return " ".join(re.sub(r"[^a-z0-9-]+", " ", text.lower()).split())


def found_in_order(text: str, sentences: dict[str, object]) -> list[object]:
    """The items whose sentence occurs in `text`, in the order of their first occurrence, each once."""
    plain = f" {normalised(text)} "
    hits = []
    for sentence, item in sentences.items():
        at = plain.find(f" {normalised(sentence)} ")
        if at >= 0:
            hits.append((at, item))
    return [item for _, item in sorted(hits, key=lambda hit: hit[0])]
