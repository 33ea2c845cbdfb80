"""Classify: a Prompt whose answer is one label out of a fixed set.

Its signature is `text -> label: Literal[labels]` and its format LabelTag: the model is
told the labels and to end with `Label: <label>X</label>`, and the last such tag is read.
Any function from the reply text to a label (or None) can replace the reader; a value
that is not one of the labels is unparsed, never mapped to the nearest real label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from promptgraph.formats import LabelTag, read_label_tag
from promptgraph.lm.reprs import listed
from promptgraph.modules.prompt import FORWARD_EFFORT, ParseError, Parser, Prompt, saved_before_call_settings
from promptgraph.references import reference_of
from promptgraph.signature import from_text

__all__ = ["CLASSIFY_MAX_TOKENS", "Classify", "read_label_tag"]

# Room for a few sentences of reasoning before the label on a model that gives them; on a server
# that holds the reply to the label grammar (the local backend) the reply ends long before.
CLASSIFY_MAX_TOKENS = 400
# A classifier's answer is a judgement, not prose: sampled, the same program scores differently
# from run to run, and a search would compare candidates under that noise.
GREEDY = 0.0


class Classify(Prompt):
    """A Prompt that answers with one of `labels`: the classifier module.

    `pg.Classify(["sincere", "insincere"])` reads the input `text` and answers `label`;
    `inputs=("text", "context")` reads several. Its system prompt, prefix and suffix are
    trainable. Example: `pg.Program.of(pg.Classify(["yes", "no"]))("Is water wet?", lm=lm).label`
    """

    def __init__(
        self,
        labels: Sequence[str],
        *,
        input: str = "text",
        inputs: Sequence[str] | Mapping[str, Any] | None = None,
        system: str | None = None,
        prefix: str = "",
        suffix: str = "",
        parser: Parser | None = None,
        max_tokens: int = CLASSIFY_MAX_TOKENS,
        description: str = "",
        max_input_chars: int = 20_000,
        format: LabelTag | None = None,
        effort: str | None = FORWARD_EFFORT,
        thinking: str | int | None = None,
        temperature: float | None = GREEDY,
    ):
        self.labels = tuple(str(label) for label in labels)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"Classify needs two or more distinct labels, got {list(labels)}")
        if any(not label.strip() for label in self.labels):
            raise ValueError(f"Classify labels must not be empty or blank, got {list(labels)}")
        self._label_parser = parser
        inputs = inputs if inputs else (input,)
        names = list(inputs)
        answer_format = format if format is not None else LabelTag()
        # Only a format left to the prompts (programs saved before formats) asks the rewriter to keep it.
        format_rule = (
            "Together, the system prompt, prefix and suffix must tell the model to end its answer with "
            f"`Label: <label>X</label>`, where X is exactly one of: {', '.join(self.labels)}."
        )
        super().__init__(
            inputs=inputs,
            outputs={"label": Literal[self.labels]},
            system=system,
            prefix=prefix,
            suffix=suffix,
            format=answer_format,
            max_tokens=max_tokens,
            description=description or f"classifies a {' and '.join(names)} as one of: {', '.join(self.labels)}",
            constraints=() if parser or answer_format.stated else (format_rule,),
            max_input_chars=max_input_chars,
            effort=effort,
            thinking=thinking,
            temperature=temperature,
        )

    def user_parser(self) -> Parser | None:
        return self._label_parser

    def parse(self, text: str) -> dict[str, Any]:
        if self._label_parser is None:
            return self.answer_format.parse(text, self.signature)
        raw = self._label_parser(text)
        if raw is None:
            raise ParseError("no label found")
        return {"label": from_text(self.signature.outputs[0], str(raw))}

    def answer_text(self, outputs: Mapping[str, Any]) -> str | None:
        return None if self._label_parser else self.answer_format.answer_text(outputs, self.signature)

    def check(self, values: dict[str, str]) -> list[str]:
        """A format left to the prompts (an old program's): they must ask for the tag and name every label."""
        if self._label_parser is not None or self.answer_format.stated:
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
            "format": {"stated": self.answer_format.stated},
            "effort": self.effort,
            "temperature": self.temperature,
            "thinking": self.thinking,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Classify:
        config = dict(config)
        if "format" in config:
            config["format"] = LabelTag(**config["format"])
        else:  # saved before formats: the trained prompts carry the format, as they always did
            config["format"] = LabelTag(stated=False)
            config = saved_before_call_settings(config)
        return cls(**config)

    def __repr__(self) -> str:
        inputs = f", inputs={listed(self.inputs)}" if self.inputs != ("text",) else ""
        return f"{type(self).__name__}(labels={listed(self.labels)}{inputs}, {self.trained_repr()})"
