"""Prompt: one LM call whose system prompt, prefix and suffix are trainable.

The user message is the prefix, the rendered inputs, the suffix and a fixed `format`
instruction, joined by blank lines (empty parts are left out). Few-shot `demos` come
first, as earlier turns of the conversation: the same kind of user message, answered by
the reply the model should give. The format is not a
Parameter: it tells the model how to lay out its reply so the parser can read it, and a
rewrite must never be able to break that. The reply goes through a plain Python parser; a reply
the parser cannot read is an `unparsed` outcome, and a call that fails is `failed`. A reply the
model was cut off in (`max_tokens`) is unparsed too, without reading it: an answer that looks
complete may be an early draft the model was about to correct. A parser that reads what comes
first, so the cut cannot matter, says so with `@reads_cut_replies`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from promptgraph.errors import PromptgraphError
from promptgraph.lm import LMError, Request
from promptgraph.module import Context, Module
from promptgraph.parameter import Demos, Parameter
from promptgraph.program_schema import whole_number
from promptgraph.references import reference_of
from promptgraph.trace import FAILED, OK, UNPARSED, Outcome


class ParseError(ValueError, PromptgraphError):
    """The parser could not read the reply; the message says what it expected."""


Parser = Callable[[str], Any]


def reads_cut_replies(parser: Parser) -> Parser:
    """Mark a parser whose answer cannot change after the point it reads (a first line, a leading label):
    replies cut at max_tokens are then parsed rather than counted unparsed."""
    parser.reads_cut_replies = True
    return parser


class Prompt(Module):
    reference_fields = ("parser",)

    def __init__(
        self,
        *,
        inputs: Sequence[str] = ("text",),
        outputs: Sequence[str] = ("text",),
        system: str = "",
        prefix: str = "",
        suffix: str = "",
        parser: Parser | None = None,
        max_tokens: int = 512,
        description: str = "",
        constraints: Sequence[str] = (),
        format: str = "",
        max_input_chars: int = 20_000,
    ):
        for setting, value in (("max_tokens", max_tokens), ("max_input_chars", max_input_chars)):
            problem = whole_number(value)
            if problem:
                raise ValueError(f"{setting} {problem}")
        self.inputs = tuple(inputs)
        self.outputs = tuple(outputs)
        self.description = description or f"reads {', '.join(self.inputs)} and writes {', '.join(self.outputs)}"
        self.system = Parameter(
            system, role=f"system prompt of the step that {self.description}", constraints=constraints
        )
        self.prefix = Parameter(
            prefix,
            role=f"text placed before the input in the user message of the step that {self.description}",
            constraints=constraints,
        )
        self.suffix = Parameter(
            suffix,
            role=f"text placed after the input in the user message of the step that {self.description}",
            constraints=constraints,
        )
        self.demos = Demos()
        self._parser = parser
        self.max_tokens = max_tokens
        self.format = format
        self.max_input_chars = max_input_chars

    def render(self, inputs: Mapping[str, Any]) -> Request:
        messages = []
        for demo in self.demos.pairs:
            messages += [("user", self.user_message(demo.inputs)), ("assistant", demo.output)]
        messages.append(("user", self.user_message(inputs)))
        # The system prompt and the demos are the same for every example: a provider may cache them.
        return Request(
            messages=messages, system=self.system.value, max_tokens=self.max_tokens, shared_prefix=len(messages) - 2
        )

    def user_message(self, inputs: Mapping[str, Any]) -> str:
        values = {name: self._bounded(str(inputs[name])) for name in self.inputs}
        if len(self.inputs) == 1:
            body = values[self.inputs[0]]
        else:
            body = "\n\n".join(f"{name.replace('_', ' ').capitalize()}: {values[name]}" for name in self.inputs)
        return "\n\n".join(part for part in (self.prefix.value, body, self.suffix.value, self.format) if part)

    def _bounded(self, text: str) -> str:
        """An input cut to `max_input_chars`: one huge field must not cost a fortune or overflow the context."""
        if len(text) <= self.max_input_chars:
            return text
        warnings.warn(
            f"an input longer than {self.max_input_chars:,} characters was cut to that length for the prompt",
            stacklevel=4,
        )
        return text[: self.max_input_chars]

    def answer_text(self, outputs: Mapping[str, Any]) -> str | None:
        """The reply that states these outputs, as a demo's answer; None if the parser's format is unknown."""
        if self._parser is not None:
            return None
        return str(outputs[self.outputs[0]])

    def user_parser(self) -> Parser | None:
        """The parser the user gave, if any (None: the module's own reader of its fixed format)."""
        return self._parser

    def parse(self, text: str) -> dict[str, Any]:
        """The outputs read from a reply; raises ParseError when it cannot be read."""
        if self._parser is None:
            return {self.outputs[0]: text.strip()}
        parsed = self._parser(text)
        if parsed is None:
            raise ParseError("the parser found no answer")
        if len(self.outputs) == 1 and not isinstance(parsed, Mapping):
            return {self.outputs[0]: parsed}
        missing = [name for name in self.outputs if name not in parsed]
        if missing:
            raise ParseError(f"the parser found no {', '.join(missing)}")
        return {name: parsed[name] for name in self.outputs}

    def forward(self, inputs: dict[str, Any], ctx: Context) -> Outcome:
        request = self.render(inputs)
        try:
            response = ctx.complete(request)
        except LMError as error:
            return Outcome(FAILED, request=request, error=str(error))
        if response.stop_reason == "max_tokens" and not getattr(self.user_parser(), "reads_cut_replies", False):
            error = (
                f"the reply was cut at max_tokens ({request.max_tokens}) before it finished, so it was not read; "
                "raise max_tokens so the model can finish its answer"
            )
            return Outcome(UNPARSED, request=request, response=response, error=error)
        try:
            outputs = self.parse(response.text)
        except Exception as error:  # a user's parser may raise anything; the reply is then unread, not a crash
            detail = str(error) if isinstance(error, ParseError) else f"{type(error).__name__} in the parser: {error}"
            return Outcome(UNPARSED, request=request, response=response, error=detail)
        return Outcome(OK, outputs=outputs, request=request, response=response)

    def config(self) -> dict[str, Any]:
        return {
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "max_tokens": self.max_tokens,
            "description": self.description,
            "parser": reference_of(self._parser),
            "format": self.format,
            "max_input_chars": self.max_input_chars,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(inputs={list(self.inputs)}, outputs={list(self.outputs)}, max_tokens={self.max_tokens})"
