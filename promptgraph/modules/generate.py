"""Generate: free text, read into named fields; ChainOfThought: reasoning first, then the fields.

The model is told (by a fixed format instruction, not a trainable text) to put each
field inside its own tags, `<answer>...</answer>`; the last occurrence of each tag wins,
so a model that drafts and then corrects itself is read at its final word. A missing
field makes the reply unparsed. Any function from text to a dict of fields can replace
the tag reader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from promptgraph.modules.prompt import ParseError, Parser, Prompt
from promptgraph.references import reference_of


def read_tags(text: str, names: Sequence[str]) -> dict[str, str]:
    """The last `<name>...</name>` of each name; ParseError naming the missing ones."""
    fields, missing = {}, []
    for name in names:
        found = re.findall(rf"<{re.escape(name)}>(.*?)</{re.escape(name)}>", text, re.DOTALL | re.IGNORECASE)
        if found:
            fields[name] = found[-1].strip()
        else:
            missing.append(f"<{name}>")
    if missing:
        raise ParseError(f"no {', '.join(missing)} in the reply")
    return fields


def tag_format(names: Sequence[str], lead: str = "") -> str:
    layout = "\n".join(f"<{name}>...</{name}>" for name in names)
    return f"{lead}Write your reply in this layout, each part inside its tags:\n{layout}"


class Generate(Prompt):
    def __init__(
        self,
        inputs: Sequence[str] = ("text",),
        outputs: Sequence[str] = ("answer",),
        *,
        system: str = "",
        prefix: str = "",
        suffix: str = "",
        parser: Parser | None = None,
        max_tokens: int = 1024,
        description: str = "",
        max_input_chars: int = 20_000,
    ):
        self._field_parser = parser
        super().__init__(
            inputs=inputs,
            outputs=outputs,
            system=system,
            prefix=prefix,
            suffix=suffix,
            max_tokens=max_tokens,
            description=description,
            format="" if parser else self._format(tuple(outputs)),
            max_input_chars=max_input_chars,
        )

    def _format(self, outputs: tuple[str, ...]) -> str:
        return tag_format(outputs)

    def user_parser(self) -> Parser | None:
        return self._field_parser

    def parse(self, text: str) -> dict[str, Any]:
        if self._field_parser is None:
            return read_tags(text, self.outputs)
        parsed = self._field_parser(text)
        if not isinstance(parsed, dict) or any(name not in parsed for name in self.outputs):
            raise ParseError(f"the parser did not return every field of {', '.join(self.outputs)}")
        return {name: parsed[name] for name in self.outputs}

    def answer_text(self, outputs: Mapping[str, Any]) -> str | None:
        if self._field_parser is not None:
            return None
        return "\n".join(f"<{name}>{outputs[name]}</{name}>" for name in self.outputs)

    def config(self) -> dict[str, Any]:
        config = super().config()
        del config["format"]  # derived from the outputs
        return {**config, "parser": reference_of(self._field_parser)}


class ChainOfThought(Generate):
    """Asks for `reasoning` before the answer fields; the reasoning is an output the critic reads."""

    def __init__(self, inputs: Sequence[str] = ("text",), outputs: Sequence[str] = ("answer",), **options: Any):
        outputs = tuple(name for name in outputs if name != "reasoning")
        super().__init__(inputs, ("reasoning", *outputs), **options)

    @property
    def answer(self) -> str:
        return self.outputs[1]

    def _format(self, outputs: tuple[str, ...]) -> str:
        return tag_format(outputs, lead="Think it through step by step first, in <reasoning>, then answer. ")

    def config(self) -> dict[str, Any]:
        return {**super().config(), "outputs": [name for name in self.outputs if name != "reasoning"]}
