"""Rendering the optimizer model's prompt templates.

Templates are Jinja2 text (no HTML escaping: these are prompts, not pages) with a
StrictUndefined environment, so a misspelt field fails loudly instead of vanishing.
Each template lives at the top of the file that uses it.
"""

from __future__ import annotations

import functools

import jinja2


def clip(text: object, limit: int) -> str:
    """At most `limit` characters, saying how much was cut, so critiques stay bounded."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False
    )
    environment.filters["clip"] = clip
    return environment


@functools.cache
def template(text: str) -> jinja2.Template:
    return _environment().from_string(text)


def render(text: str, **values: object) -> str:
    return template(text).render(**values).strip()
