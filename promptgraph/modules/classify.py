"""Classify: a Prompt whose answer is one label out of a fixed set.

The default parser reads the last `<label>X</label>` in the reply. Any function from the
reply text to a label (or None) can replace it; a value that is not one of the labels
is unparsed, never mapped to the nearest real label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from promptgraph.modules.prompt import ParseError, Parser, Prompt
from promptgraph.references import reference_of

LABEL_TAG = re.compile(r"<label>\s*(.*?)\s*</label>", re.IGNORECASE | re.DOTALL)


def read_label_tag(text: str) -> str | None:
    """The last `<label>...</label>` in the text, or None."""
    found = LABEL_TAG.findall(text)
    return found[-1] if found else None


class Classify(Prompt):
    def __init__(
        self,
        labels: Sequence[str],
        *,
        input: str = "text",
        inputs: Sequence[str] | None = None,
        system: str = "",
        prefix: str = "",
        suffix: str = "",
        parser: Parser | None = None,
        max_tokens: int = 400,
        description: str = "",
        max_input_chars: int = 20_000,
    ):
        self.labels = tuple(str(label) for label in labels)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"Classify needs two or more distinct labels, got {list(labels)}")
        if any(not label.strip() for label in self.labels):
            raise ValueError(f"Classify labels must not be empty or blank, got {list(labels)}")
        self._label_parser = parser
        format_rule = (
            "Together, the system prompt, prefix and suffix must tell the model to end its answer with "
            f"`Label: <label>X</label>`, where X is exactly one of: {', '.join(self.labels)}."
        )
        inputs = tuple(inputs) if inputs else (input,)
        super().__init__(
            inputs=inputs,
            outputs=("label",),
            system=system,
            prefix=prefix,
            suffix=suffix,
            parser=None,
            max_tokens=max_tokens,
            description=description or f"classifies a {' and '.join(inputs)} as one of: {', '.join(self.labels)}",
            constraints=() if parser else (format_rule,),
            max_input_chars=max_input_chars,
        )

    def user_parser(self) -> Parser | None:
        return self._label_parser

    def parse(self, text: str) -> dict[str, Any]:
        raw = (self._label_parser or read_label_tag)(text)
        if raw is None:
            raise ParseError("no label found" if self._label_parser else "no <label>...</label> in the reply")
        label = _match(str(raw), self.labels)
        if label is None:
            raise ParseError(f"{raw!r} is not one of the labels {', '.join(self.labels)}")
        return {"label": label}

    def answer_text(self, outputs: Mapping[str, Any]) -> str | None:
        return None if self._label_parser else f"Label: <label>{outputs['label']}</label>"

    def check(self, values: dict[str, str]) -> list[str]:
        """With the default parser, the prompts must ask for the tag and name every label."""
        if self._label_parser is not None:
            return []
        current = {"system": self.system.value, "prefix": self.prefix.value, "suffix": self.suffix.value}
        text = " ".join({**current, **values}.values())
        problems = []
        if "<label>" not in text:
            problems.append(
                "no prompt asks the model to answer with <label>X</label>, so the parser would read nothing"
            )
        missing = [label for label in self.labels if label.lower() not in text.lower()]
        if missing:
            problems.append(f"the prompts never name the label(s) {', '.join(missing)}")
        return problems

    def config(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "inputs": list(self.inputs),
            "max_tokens": self.max_tokens,
            "description": self.description,
            "parser": reference_of(self._label_parser),
            "max_input_chars": self.max_input_chars,
        }

    def __repr__(self) -> str:
        inputs = f", inputs={list(self.inputs)}" if self.inputs != ("text",) else ""
        return f"{type(self).__name__}(labels={list(self.labels)}{inputs}, max_tokens={self.max_tokens})"


def _match(raw: str, labels: tuple[str, ...]) -> str | None:
    """Exact, then case-insensitive: the model writing `Sincere` for `sincere` is not a new label."""
    if raw in labels:
        return raw
    folded = {label.casefold(): label for label in labels}
    return folded.get(raw.strip().casefold())
