"""Prompt: one LM call with a signature, a fixed answer format and trainable texts.

A Prompt declares what it reads and writes once, as a signature (`"question -> answer:
float"`, or `inputs=` / `outputs=` with types and descriptions). Its answer format (an
object from formats.py: Text, Tags, LabelTag or JSONSchema) tells the model how to lay
out its reply, reads the reply back into typed outputs, and writes a demo's answer; it is
fixed, not a Parameter, so a rewrite can never break what the parser reads. The
trainable texts are the system prompt, prefix and suffix, and the few-shot demos.

The user message is the prefix, the rendered inputs, the suffix and the format's
instruction, joined by blank lines (empty parts are left out). Few-shot `demos` come
first, as earlier turns of the conversation: the same kind of user message, answered by
the reply the model should give. A module whose format asks for a layout starts with a
system prompt that names its task, so an untrained program already answers in a form
the parser reads. Where the backend can hold the model to the format (a JSON schema on
the Messages API, a grammar on llama-server), the request asks it to.

A reply the format cannot read is an `unparsed` outcome naming the field and what was
wrong, and a call that fails is `failed`. A reply the model was cut off in (`max_tokens`)
is unparsed too, without reading it: an answer that looks complete may be an early draft
the model was about to correct. A parser that reads what comes first, so the cut cannot
matter, says so with `@reads_cut_replies`. A user's own `parser` replaces the format's.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from promptgraph.formats import Format, LabelTag, Tags, Text, format_from_dict, format_to_dict
from promptgraph.lm import LMError, MissingAPIKey, Request
from promptgraph.lm.reprs import sized
from promptgraph.module import Context, Module
from promptgraph.parameter import Demos, Parameter
from promptgraph.program_schema import whole_number
from promptgraph.references import reference_of
from promptgraph.signature import ParseError, Signature
from promptgraph.trace import FAILED, OK, UNPARSED, Outcome

FORWARD_EFFORT = "low"  # forward calls classify and extract: thinking tokens would cost money and eat max_tokens

Parser = Callable[[str], Any]
SIGNATURE_IN_REPR = 60  # characters: a signature of many fields is recognised by its start


def reads_cut_replies(parser: Parser) -> Parser:
    """Mark a parser whose answer cannot change after the point it reads (a first line, a leading label):
    replies cut at max_tokens are then parsed rather than counted unparsed."""
    parser.reads_cut_replies = True
    return parser


def default_format(signature: Signature) -> Format:
    """One label: LabelTag; one text: the reply itself; anything else: a tag per field."""
    if len(signature.outputs) == 1 and signature.outputs[0].choices:
        return LabelTag()
    if len(signature.outputs) == 1 and signature.outputs[0].type is str:
        return Text()
    return Tags()


def default_instruction(description: str) -> str:
    return f"You are the step of a program that {description}. Answer in the format the message asks for."


class Prompt(Module):
    """One LLM call with trainable texts: system prompt, user prefix and suffix, few-shot demos.

    It renders its inputs into a request, calls the forward LM it is given and parses the reply
    by its signature's answer format; a reply it cannot read is an `unparsed` outcome, not an
    exception. `Classify` and `Generate` are its conveniences.
    Example: `pg.Prompt("question -> answer", system="Answer in one sentence.")`
    """

    reference_fields = ("parser",)

    def __init__(
        self,
        signature: str | Signature | None = None,
        *,
        inputs: Sequence[str] | Mapping[str, Any] | None = None,
        outputs: Sequence[str] | Mapping[str, Any] | None = None,
        system: str | None = None,
        prefix: str = "",
        suffix: str = "",
        format: Format | str | None = None,
        parser: Parser | None = None,
        max_tokens: int = 512,
        description: str = "",
        constraints: Sequence[str] = (),
        max_input_chars: int = 20_000,
        effort: str | None = FORWARD_EFFORT,
        thinking: str | int | None = None,
        temperature: float | None = None,
    ):
        for setting, value in (("max_tokens", max_tokens), ("max_input_chars", max_input_chars)):
            problem = whole_number(value)
            if problem:
                raise ValueError(f"{setting} {problem}")
        if signature is None and outputs is None:
            outputs = ("text",)  # a bare Prompt answers in plain text, as it always has
        self.signature = Signature.of(signature, inputs=inputs, outputs=outputs)
        self._parser = parser
        if isinstance(format, str):  # the old spelling: a fixed instruction for a plain-text answer
            format = Text(note=format)
        self.answer_format = format if format is not None else default_format(self.signature)
        if self.user_parser() is None:
            self.answer_format.check(self.signature)
        self.inputs = self.signature.input_names
        self.outputs = self.signature.output_names
        self.description = description or f"reads {', '.join(self.inputs)} and writes {', '.join(self.outputs)}"
        if system is None:
            stated = self.format
            system = default_instruction(self.description) if stated else ""
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
        self.max_tokens = max_tokens
        self.max_input_chars = max_input_chars
        self.effort, self.temperature, self.thinking = None, None, None  # None: the server's own default
        self.set_call_settings(effort=effort, temperature=temperature, thinking=thinking)

    def set_call_settings(self, **settings: object) -> None:
        """effort, temperature and thinking of this module's calls, checked now (a typo must not wait for a paid pass)."""
        new = {"effort": self.effort, "temperature": self.temperature, "thinking": self.thinking} | settings
        Request(messages=[("user", ".")], **new)
        budget = new["thinking"]
        if isinstance(budget, int) and budget >= self.max_tokens:  # the API refuses it on every call
            raise ValueError(
                f"a thinking budget of {budget} tokens needs max_tokens above it, and this module's is "
                f"{self.max_tokens}: thinking counts against max_tokens; raise max_tokens or lower the budget"
            )
        self.effort, self.temperature, self.thinking = new["effort"], new["temperature"], new["thinking"]

    @property
    def format(self) -> str:
        """The fixed instruction at the end of every user message (empty when a user's parser reads the reply)."""
        return "" if self.user_parser() is not None else self.answer_format.instruction(self.signature)

    def render(self, inputs: Mapping[str, Any]) -> Request:
        messages = []
        for demo in self.demos.shown(inputs, self.inputs):
            messages += [("user", self.user_message(demo.inputs)), ("assistant", demo.output)]
        messages.append(("user", self.user_message(inputs)))
        constrained = self.user_parser() is None  # a user's parser reads a layout of its own
        # The system prompt and fixed demos are the same for every example: a provider may cache them.
        # Retrieved demos differ from input to input, so then only the system prompt is shared.
        shared = -1 if self.demos.retriever is not None else len(messages) - 2
        return Request(
            messages=messages,
            system=self.system.value,
            max_tokens=self.max_tokens,
            shared_prefix=shared,
            output_schema=self.answer_format.output_schema(self.signature) if constrained else None,
            grammar=self.answer_format.grammar(self.signature) if constrained else None,
            effort=self.effort,
            thinking=self.thinking,
            temperature=self.temperature,
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
        """The reply that states these outputs, as a demo's answer; None if a user's parser reads replies."""
        if self.user_parser() is not None:
            return None
        return self.answer_format.answer_text(outputs, self.signature)

    def user_parser(self) -> Parser | None:
        """The parser the user gave, if any (None: the format reads the reply)."""
        return self._parser

    def parse(self, text: str) -> dict[str, Any]:
        """The outputs read from a reply; raises ParseError when it cannot be read."""
        if self._parser is None:
            return self.answer_format.parse(text, self.signature)
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
        except MissingAPIKey:
            raise  # not this call's failure: every call would fail alike, so the run stops with what to do
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
            "signature": self.signature.to_dict(),
            "answer_format": format_to_dict(self.answer_format),
            "max_tokens": self.max_tokens,
            "description": self.description,
            "parser": reference_of(self._parser),
            "max_input_chars": self.max_input_chars,
            "effort": self.effort,
            "temperature": self.temperature,
            "thinking": self.thinking,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Prompt:
        return cls(**_migrated(config))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({sized(self.signature, SIGNATURE_IN_REPR)}, {self.trained_repr()})"

    def trained_repr(self) -> str:
        """What training changes, for a repr: the start of the system prompt, and how many demos it holds."""
        demos = f", demos={len(self.demos.pairs)}" if self.demos.pairs else ""
        return f"system={sized(self.system.value)}{demos}"


def _migrated(config: Mapping[str, Any]) -> dict[str, Any]:
    """A saved config as today's constructor takes it; one saved before signatures asks what it always asked."""
    config = dict(config)
    if "signature" in config:
        signature = Signature.from_dict(config.pop("signature"))
        config["inputs"] = {field.name: field for field in signature.inputs}
        config["outputs"] = {field.name: field for field in signature.outputs}
    if "answer_format" in config:
        config["format"] = format_from_dict(config.pop("answer_format"))
    else:
        config = saved_before_call_settings(config)
    return config


def saved_before_call_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config saved before formats and call settings: it sent no effort and no temperature, so neither now."""
    return {"effort": None, "temperature": None, **config}
