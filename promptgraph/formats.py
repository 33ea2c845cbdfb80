"""Answer formats: how a module asks for its outputs, reads them back, and writes a demo's answer.

A format is fixed, not trained: its instruction goes at the end of every user message
and no rewrite can reach it, so training can never break what the parser reads. The three
sides of a format (the instruction, the parser and a demo's answer) are written next to
each other here so they cannot drift apart.

- `Tags`: each output inside its own tags, `<answer>...</answer>`; the last of each wins,
  so a model that drafts and then corrects itself is read at its final word. On a server
  that constrains decoding with a grammar, the reply is the fields in order, each value in
  its type's syntax (a label one of its labels), so it always parses.
- `Text`: the whole reply is the one text output (a summary, an answer in prose).
- `LabelTag`: one label out of a fixed set, `Label: <label>X</label>` (a classifier). On a
  server that constrains decoding with a grammar (llama-server), only that line can come back.
- `JSONSchema`: one JSON object; where the backend constrains output to a schema
  (`output_config.format` on the Messages API), the reply cannot be anything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from promptgraph.signature import (
    Field,
    ParseError,
    Signature,
    SignatureError,
    describe_type,
    from_json,
    from_text,
)
from promptgraph.structured import first_json_object

LABEL_TAG = re.compile(r"<label>\s*(.*?)\s*</label>", re.IGNORECASE | re.DOTALL)


class Format(Protocol):
    name: str  # saved in program files

    def check(self, signature: Signature) -> None:
        """Raise SignatureError if this format cannot carry the signature's outputs."""

    def instruction(self, signature: Signature) -> str: ...

    def parse(self, text: str, signature: Signature) -> dict[str, Any]:
        """The outputs, typed; ParseError naming the field and what was wrong."""

    def answer_text(self, outputs: Mapping[str, Any], signature: Signature) -> str: ...

    def output_schema(self, signature: Signature) -> dict[str, Any] | None:
        """A JSON schema the reply must match, for backends with native structured output; None for none."""

    def grammar(self, signature: Signature) -> str | None:
        """A GBNF grammar the reply must match, for servers that constrain decoding with one; None for none."""


def read_tags(text: str, names: tuple[str, ...]) -> dict[str, str]:
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


def read_label_tag(text: str) -> str | None:
    """The last `<label>...</label>` in the text, or None."""
    found = LABEL_TAG.findall(text)
    return found[-1] if found else None


def _hints(fields: tuple[Field, ...]) -> str:
    """One line per field the model must know more of than its name: its type or description."""
    lines = []
    for field in fields:
        kind = "" if field.type is str else describe_type(field.type)
        if field.type == list[str]:
            kind = "a list, one item a line"
        about = "; ".join(part for part in (kind, field.description) if part)
        if about:
            lines.append(f"- {field.name}: {about}")
    return "\n".join(lines)


@attrs.frozen
class Tags:
    """Generate's default answer format: each output inside its own tags, e.g. `<answer>...</answer>`."""

    lead: str = ""  # said before the layout, e.g. to ask for reasoning first
    name: str = "tags"

    def check(self, signature: Signature) -> None:
        records = [field.name for field in signature.outputs if field.is_record]
        if records:
            raise SignatureError(f"the Tags format cannot carry the record {', '.join(records)}; use JSONSchema()")

    def instruction(self, signature: Signature) -> str:
        layout = "\n".join(f"<{name}>...</{name}>" for name in signature.output_names)
        hints = _hints(signature.outputs)
        text = f"{self.lead}Write your reply in this layout, each part inside its tags:\n{layout}"
        return f"{text}\n{hints}" if hints else text

    def parse(self, text: str, signature: Signature) -> dict[str, Any]:
        raw = read_tags(text, signature.output_names)
        return {field.name: from_text(field, raw[field.name]) for field in signature.outputs}

    def answer_text(self, outputs: Mapping[str, Any], signature: Signature) -> str:
        return "\n".join(f"<{name}>{_as_text(outputs[name])}</{name}>" for name in signature.output_names)

    def output_schema(self, signature: Signature) -> dict[str, Any] | None:
        return None

    def grammar(self, signature: Signature) -> str | None:
        """Every field in its tags, in order, a line apart, each value in the syntax its type is read in."""
        kinds = [_tag_value(field) for field in signature.outputs]
        fields = ' "\\n" '.join(
            f'"<{field.name}>" {kind} "</{field.name}>"' for field, kind in zip(signature.outputs, kinds, strict=True)
        )
        used = dict.fromkeys(kind for kind in kinds if kind in TAG_VALUES)
        return "\n".join([f"root ::= {fields}", *(f"{kind} ::= {TAG_VALUES[kind]}" for kind in used)])


@attrs.frozen
class Text:
    """The whole reply, stripped, is the one text output; `note` is a fixed instruction, if any."""

    note: str = ""
    name: str = "text"

    def check(self, signature: Signature) -> None:
        if len(signature.outputs) != 1 or signature.outputs[0].type is not str:
            raise SignatureError(f"the Text format carries one text output, not {signature.output_names}; use Tags()")

    def instruction(self, signature: Signature) -> str:
        return self.note

    def parse(self, text: str, signature: Signature) -> dict[str, Any]:
        return {signature.outputs[0].name: text.strip()}

    def answer_text(self, outputs: Mapping[str, Any], signature: Signature) -> str:
        return str(outputs[signature.outputs[0].name])

    def output_schema(self, signature: Signature) -> dict[str, Any] | None:
        return None

    def grammar(self, signature: Signature) -> str | None:
        return None


@attrs.frozen
class LabelTag:
    """Classify's answer format: the reply ends with `Label: <label>...</label>`, one of the labels."""

    # False: the format is not stated by promptgraph but left to the trained prompts, as
    # programs saved before formats existed did; they load so, and ask exactly what they asked.
    stated: bool = True
    name: str = "label"

    def check(self, signature: Signature) -> None:
        if len(signature.outputs) != 1 or not signature.outputs[0].choices:
            raise SignatureError(
                f"the LabelTag format needs exactly one output of Literal labels, not {signature.output_names}"
            )

    def instruction(self, signature: Signature) -> str:
        if not self.stated:
            return ""
        labels = signature.outputs[0].choices
        return (
            f"Answer with exactly one of these labels: {', '.join(labels)}. "
            "End your reply with `Label: <label>X</label>`, where X is the label."
        )

    def parse(self, text: str, signature: Signature) -> dict[str, Any]:
        field = signature.outputs[0]
        raw = read_label_tag(text)
        if raw is None:
            raise ParseError("no <label>...</label> in the reply")
        return {field.name: from_text(field, raw)}

    def answer_text(self, outputs: Mapping[str, Any], signature: Signature) -> str:
        return f"Label: <label>{outputs[signature.outputs[0].name]}</label>"

    def output_schema(self, signature: Signature) -> dict[str, Any] | None:
        return None  # a label in JSON would be a different reply from the one demos and parser expect

    def grammar(self, signature: Signature) -> str | None:
        if not self.stated:  # the prompts may ask for reasoning before the label: a grammar would forbid it
            return None
        labels = " | ".join(_gbnf_literal(label) for label in signature.outputs[0].choices)
        return f'root ::= "Label: <label>" ({labels}) "</label>"'


@attrs.frozen
class JSONSchema:
    """An answer format: the reply is one JSON object with a field per output (records and lists too).

    Example: `pg.Generate("text -> topic, tone", format=pg.JSONSchema())`.
    """

    name: str = "json"

    def check(self, signature: Signature) -> None:
        return None  # JSON carries every type a signature has

    def instruction(self, signature: Signature) -> str:
        fields = "\n".join(
            f"- {field.name} ({_json_kind(field)})" + (f": {field.description}" if field.description else "")
            for field in signature.outputs
        )
        return f"Reply with only a JSON object with these fields:\n{fields}"

    def parse(self, text: str, signature: Signature) -> dict[str, Any]:
        data = first_json_object(text)
        if data is None:
            raise ParseError("no JSON object in the reply")
        missing = [name for name in signature.output_names if name not in data]
        if missing:
            raise ParseError(f"the JSON object has no {', '.join(missing)}")
        return {field.name: from_json(field, data[field.name]) for field in signature.outputs}

    def answer_text(self, outputs: Mapping[str, Any], signature: Signature) -> str:
        return json.dumps({name: outputs[name] for name in signature.output_names}, ensure_ascii=False)

    def output_schema(self, signature: Signature) -> dict[str, Any] | None:
        return schema_of(signature.outputs)

    def grammar(self, signature: Signature) -> str | None:
        return None  # servers with grammars (llama-server) take the schema itself


def schema_of(fields: tuple[Field, ...]) -> dict[str, Any]:
    """A strict JSON schema (every field required, no others), as structured outputs need."""
    return {
        "type": "object",
        "properties": {field.name: _field_schema(field) for field in fields},
        "required": [field.name for field in fields],
        "additionalProperties": False,
    }


def _field_schema(field: Field) -> dict[str, Any]:
    if field.is_record:
        schema = schema_of(field.type)
    elif field.choices:
        schema = {"type": "string", "enum": list(field.choices)}
    elif field.type == list[str]:
        schema = {"type": "array", "items": {"type": "string"}}
    else:
        schema = {"type": {str: "string", int: "integer", float: "number", bool: "boolean"}[field.type]}
    return {**schema, "description": field.description} if field.description else schema


def _json_kind(field: Field) -> str:
    if field.is_record:
        return "an object with " + ", ".join(inner.name for inner in field.type)
    if field.choices:
        return "one of " + ", ".join(json.dumps(choice) for choice in field.choices)
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false", list[str]: "a list of texts"}[
        field.type
    ]


# The values a Tags grammar admits inside a field's tags, by the rule that names them. Free text
# is anything but `<`, so the model can only leave a field by closing its tag; a list is the
# format's own, one item a line. Numbers have as many digits as a Python float writes and no
# more: a small model held to `[0-9]+` writes digits until max_tokens cuts it off.
TAG_VALUES = {
    "text": "[^<]*",
    "whole-number": '"-"? [0-9]{1,18}',
    "number": '"-"? [0-9]{1,16} ("." [0-9]{1,17})? ([eE] [-+]? [0-9]{1,3})?',
    "true-or-false": '"true" | "false"',
    "lines": '([^<\\n]+ ("\\n" [^<\\n]+)*)?',
}


def _tag_value(field: Field) -> str:
    """The grammar of one field's value: its labels, or the rule of its type."""
    if field.choices:
        return "(" + " | ".join(_gbnf_literal(choice) for choice in field.choices) + ")"
    if field.type == list[str]:
        return "lines"
    return {str: "text", int: "whole-number", float: "number", bool: "true-or-false"}[field.type]


def _gbnf_literal(text: str) -> str:
    """A GBNF string literal: quotes, backslashes and line breaks escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return str(value)


FORMATS = {"text": Text, "tags": Tags, "label": LabelTag, "json": JSONSchema}


def format_from_dict(data: Mapping[str, Any]) -> Format:
    """A saved format, by name (never by import)."""
    kind = FORMATS.get(data.get("name"))
    if kind is None:
        raise SignatureError(f"unknown answer format {data.get('name')!r}; expected one of {', '.join(FORMATS)}")
    options = {key: value for key, value in data.items() if key != "name"}
    types = {field.name: type(field.default) for field in attrs.fields(kind) if field.name != "name"}
    wrong = [key for key, value in options.items() if key not in types or type(value) is not types[key]]
    if wrong:
        allowed = ", ".join(f"{key} ({kind_.__name__})" for key, kind_ in types.items()) or "no options"
        raise SignatureError(f"answer format {data['name']!r} takes only {allowed}, not {', '.join(wrong)}")
    return kind(**options)


def format_to_dict(answer_format: Format) -> dict[str, Any]:
    return attrs.asdict(answer_format)
