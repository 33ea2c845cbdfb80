"""Reading back what a prompt shows, from the markup the templates write (templates/markup.j2).

A program, or a test double standing in for the strong model, learns what it was asked
from the request's `tag` and from these elements, never from headings or wording:

    <step>classify</step>                        the step a critique is about
    <value name="classify.system">               a trainable text as it is now;
    ...                                          "(empty)" when it is empty
    </value>
    <rejected name="classify.system">            a text tried before and turned down
    ...
    </rejected>
    <tried score="0.700">...</tried>             values tried together, and their score (OPRO)
    <upstream name="note" from="note.note"/>     an input another step produced
    <example verdict="WRONG" expected="insincere">  an example: the right answer, the
    <input name="text">...</input>               critic's verdict on the program's
    ...                                          (critic only), its inputs, then what
    </example>                                   the prompt says of it in prose
    <feedback>...</feedback>                     inside an example (critic only): what the
                                                 metric said of the answer (read_feedback)
    <class>correct</class>                       the class a synthesis call is about
    <summary>...</summary>                       a summary to expand into an example

Contents are the texts as written (the model reads them so); attribute values are
HTML-escaped. A text that itself holds a closing tag such as `</value>` on a line of its
own would cut the element short: the readers are for programs' own prompts and tests.
"""

from __future__ import annotations

import html
import re

import attrs

EMPTY = "(empty)"  # how a template shows an empty text

_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_VALUE = re.compile(r'<value name="([^"]*)">\n(.*?)\n</value>', re.DOTALL)
_REJECTED = re.compile(r'<rejected name="([^"]*)">\n(.*?)\n</rejected>', re.DOTALL)
_TRIED = re.compile(r'<tried score="([^"]*)">\n(.*?)</tried>', re.DOTALL)
_EXAMPLE = re.compile(r"<example((?: \w+=\"[^\"]*\")*)>\n(.*?)</example>", re.DOTALL)
_INPUT = re.compile(r'<input name="([^"]*)">(.*?)</input>', re.DOTALL)
_UPSTREAM = re.compile(r'<upstream name="([^"]*)" from="([^"]*)"/>')
_STEP = re.compile(r"<step>(.*?)</step>")
_CLASS = re.compile(r"<class>(.*?)</class>")
_SUMMARY = re.compile(r"<summary>(.*?)</summary>", re.DOTALL)
_FEEDBACK = re.compile(r"<feedback>(.*?)</feedback>", re.DOTALL)


@attrs.frozen
class ShownExample:
    """An example as a prompt shows it."""

    inputs: dict[str, str]
    expected: str | None = None  # the right answer
    verdict: str | None = None  # the critic's prompts: "correct" or "WRONG"
    feedback: str = ""  # the critic's prompts: what the metric said of the answer (see read_feedback)
    text: str = ""  # everything the element holds, inputs included

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"


@attrs.frozen
class ShownTry:
    """Values an optimizer tried together and the score they got."""

    score: float
    values: dict[str, str]


@attrs.frozen
class Shown:
    """Everything a prompt shows in markup; what a prompt does not show is empty."""

    step: str | None = None
    values: dict[str, str] = attrs.field(factory=dict)  # name -> text, outside <tried>
    rejected: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    tried: tuple[ShownTry, ...] = ()
    upstream: dict[str, str] = attrs.field(factory=dict)  # input field -> the step output it comes from
    examples: tuple[ShownExample, ...] = ()
    class_name: str | None = None
    summaries: tuple[str, ...] = ()


def read(text: str) -> Shown:
    """What `text` (a prompt rendered by promptgraph.prompts) shows in markup."""
    tried = tuple(ShownTry(score=float(_unescape(score)), values=_values(body)) for score, body in _TRIED.findall(text))
    outside = _TRIED.sub("", text)
    rejected: dict[str, tuple[str, ...]] = {}
    for name, body in _REJECTED.findall(text):
        rejected[_unescape(name)] = (*rejected.get(_unescape(name), ()), body)
    return Shown(
        step=_first(_STEP, text),
        values=_values(outside),
        rejected=rejected,
        tried=tried,
        upstream={_unescape(name): _unescape(source) for name, source in _UPSTREAM.findall(text)},
        examples=tuple(_example(attributes, body) for attributes, body in _EXAMPLE.findall(text)),
        class_name=_first(_CLASS, text),
        summaries=tuple(_SUMMARY.findall(text)),
    )


def read_feedback(text: str) -> tuple[str, ...]:
    """What the metric said of each example `text` (a critic's prompt) shows, in order; "" for an example without.

    The same as `tuple(e.feedback for e in read(text).examples)`, for a reader that needs nothing else.
    """
    return tuple(_feedback_of(body) for _, body in _EXAMPLE.findall(text))


def _feedback_of(body: str) -> str:
    return _first(_FEEDBACK, body) or ""


def _values(text: str) -> dict[str, str]:
    return {_unescape(name): "" if body == EMPTY else body for name, body in _VALUE.findall(text)}


def _example(attributes: str, body: str) -> ShownExample:
    found = {name: _unescape(value) for name, value in _ATTRIBUTE.findall(attributes)}
    return ShownExample(
        inputs={_unescape(name): value for name, value in _INPUT.findall(body)},
        expected=found.get("expected"),
        verdict=found.get("verdict"),
        feedback=_feedback_of(body),
        text=body,
    )


def _first(pattern: re.Pattern, text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1) if found else None


def _unescape(value: str) -> str:
    return html.unescape(value)
