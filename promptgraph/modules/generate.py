"""Generate: free text, read into named fields; ChainOfThought: reasoning first, then the fields.

The format is Tags: the model is told (by the fixed format, not a trainable text) to put
each field inside its own tags, `<answer>...</answer>`, and the last occurrence of each
tag wins, so a model that drafts and then corrects itself is read at its final word. A
missing field, or a value of the wrong type, makes the reply unparsed. On a server that
takes a grammar (llama-server), the reply is held to the fields in order, each in its
type's syntax. Any function from text to a dict of fields can replace the tag reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from promptgraph.formats import Tags, read_tags
from promptgraph.modules.positional import signature_arguments
from promptgraph.modules.prompt import FORWARD_EFFORT, ParseError, Parser, Prompt
from promptgraph.references import reference_of
from promptgraph.signature import Signature

__all__ = ["ChainOfThought", "Generate", "read_tags"]

REASONING_LEAD = "Think it through step by step first, in <reasoning>, then answer. "


class Generate(Prompt):
    """A Prompt that writes free text into named output fields (DSPy's `Predict`).

    `pg.Generate("question -> answer")` or `pg.Generate("text -> topic, tone")`: each output is
    read from its own tags in the reply (`Tags`), or from JSON with `format=pg.JSONSchema()`.
    """

    def __init__(
        self,
        signature: str | Signature | None = None,
        *old_positional: Any,  # Generate(inputs, outputs), deprecated: see positional.py
        inputs: Sequence[str] | Mapping[str, Any] | None = None,
        outputs: Sequence[str] | Mapping[str, Any] | None = None,
        system: str | None = None,
        prefix: str = "",
        suffix: str = "",
        parser: Parser | None = None,
        max_tokens: int = 1024,
        description: str = "",
        max_input_chars: int = 20_000,
        format: Tags | None = None,
        effort: str | None = FORWARD_EFFORT,
        thinking: str | int | None = None,
        temperature: float | None = None,
    ):
        self._field_parser = parser
        signature, inputs, outputs = signature_arguments(
            type(self).__name__, signature, old_positional, inputs=inputs, outputs=outputs
        )
        super().__init__(
            Signature.of(signature, inputs=inputs, outputs=outputs),
            system=system,
            prefix=prefix,
            suffix=suffix,
            format=format if format is not None else self._default_format(),
            max_tokens=max_tokens,
            description=description,
            max_input_chars=max_input_chars,
            effort=effort,
            thinking=thinking,
            temperature=temperature,
        )

    def _default_format(self) -> Tags:
        return Tags()

    def user_parser(self) -> Parser | None:
        return self._field_parser

    def parse(self, text: str) -> dict[str, Any]:
        if self._field_parser is None:
            return self.answer_format.parse(text, self.signature)
        parsed = self._field_parser(text)
        if not isinstance(parsed, dict) or any(name not in parsed for name in self.outputs):
            raise ParseError(f"the parser did not return every field of {', '.join(self.outputs)}")
        return {name: parsed[name] for name in self.outputs}

    def config(self) -> dict[str, Any]:
        return {**super().config(), "parser": reference_of(self._field_parser)}


class ChainOfThought(Generate):
    """Asks for `reasoning` before the answer fields; the reasoning is an output the critic reads."""

    def __init__(
        self,
        signature: str | Signature | None = None,
        *old_positional: Any,  # ChainOfThought(inputs, outputs), deprecated: see positional.py
        inputs: Sequence[str] | Mapping[str, Any] | None = None,
        outputs: Sequence[str] | Mapping[str, Any] | None = None,
        **options: Any,
    ):
        signature, inputs, outputs = signature_arguments(
            type(self).__name__, signature, old_positional, inputs=inputs, outputs=outputs
        )
        signature = Signature.of(signature, inputs=inputs, outputs=outputs)
        answers = {field.name: field for field in signature.outputs if field.name != "reasoning"}
        super().__init__(
            inputs={field.name: field for field in signature.inputs}, outputs={"reasoning": str, **answers}, **options
        )

    @property
    def answer(self) -> str:
        return self.outputs[1]

    def _default_format(self) -> Tags:
        return Tags(lead=REASONING_LEAD)

    def config(self) -> dict[str, Any]:
        config = super().config()
        signature = dict(config["signature"])
        signature["outputs"] = [field for field in signature["outputs"] if field["name"] != "reasoning"]
        return {**config, "signature": signature}
