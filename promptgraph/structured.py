"""Asking the optimizer model for JSON: read it, check it, repair it once, or give up cleanly.

We ask for a JSON object in the reply text rather than forcing a tool call: the current
Opus models refuse forced tool use, and plain text works the same on every server that
speaks the Messages API. The JSON is read with `raw_decode` from the first `{` that
starts a valid object, so prose or a code fence around it does no harm.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs

from promptgraph import prompts
from promptgraph.lm import LM, Ledger, LMError, Request, call

Check = Callable[[Any], list[str]]  # problems with a decoded reply; empty when it is usable


@attrs.frozen
class StructuredReply:
    data: dict[str, Any] | None  # None when no usable JSON came back, even after the repair
    replies: tuple[str, ...]  # every raw reply, for the report
    problems: tuple[str, ...] = ()  # why the last reply was not usable

    @property
    def repaired(self) -> bool:
        return self.data is not None and len(self.replies) > 1


def first_json_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for start, character in enumerate(text):
        if character != "{":
            continue
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def ask_json(lm: LM, request: Request, check: Check, *, ledger: Ledger | None = None) -> StructuredReply:
    """One request, plus at most one repair round; LM failures become an unusable reply, not a crash."""
    replies: list[str] = []
    messages = list(request.messages)
    for attempt in range(2):
        try:
            response = call(lm, attrs.evolve(request, messages=messages), ledger=ledger)
        except LMError as error:
            return StructuredReply(None, tuple(replies), (f"the call failed: {error}",))
        replies.append(response.text)
        data = first_json_object(response.text)
        problems = ["the reply holds no JSON object"] if data is None else _checked(check, data)
        if not problems:
            return StructuredReply(data, tuple(replies))
        if attempt == 0:
            messages += [("assistant", response.text), ("user", prompts.repair(problems=problems))]
    return StructuredReply(None, tuple(replies), tuple(problems))


def _checked(check: Check, data: dict[str, Any]) -> list[str]:
    """The check's problems; a check that trips over an odd shape (a list where a name belongs) is one too."""
    try:
        return check(data)
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        return [f"the reply has an unexpected shape ({type(error).__name__}: {error})"]
