"""Short reprs: the start of a long text, and only the settings that differ from their defaults.

A repr is read in a traceback, a notebook or a log line; one that prints every example
of a run (a compile result's was 100,000 characters) hides what it was meant to show.
This lives in `lm/` because everything above may import from here, and `lm/` itself
needs it for its own LMs.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from pathlib import PurePath

import attrs

TEXT_CHARS = 40  # enough to recognise a prompt or an input, short enough for one line
ITEMS_SHOWN = 5  # of a list of labels or fields: enough to recognise it, few enough for one line


def short(text: object, limit: int = TEXT_CHARS) -> str:
    """The repr of `text` cut to `limit` characters, an ellipsis marking the cut."""
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def sized(text: object, limit: int = TEXT_CHARS) -> str:
    """Like `short`, and a text that was cut says how long it is: `'Decide whether…' (212 chars)`."""
    text = str(text)
    return short(text, limit) if len(text) <= limit else f"{short(text, limit)} ({len(text)} chars)"


def listed(items: Iterable[object], shown: int = ITEMS_SHOWN) -> str:
    """A list's repr with its first `shown` items and a count of the rest: `['a', 'b', … 98 more]`."""
    items = list(items)
    if len(items) <= shown:
        return repr(items)
    return "[" + ", ".join(repr(item) for item in items[:shown]) + f", … {len(items) - shown} more]"


def short_mapping(values: Mapping[str, object], shown: int = ITEMS_SHOWN) -> str:
    """A dict's repr with every value cut by `short`, its first `shown` items and a count of the rest."""
    items = [f"{key!r}: {short(value)}" for key, value in values.items()]
    rest = f", … {len(items) - shown} more" if len(items) > shown else ""
    return "{" + ", ".join(items[:shown]) + rest + "}"


def names(values: Mapping[str, object]) -> str:
    """A dict by its keys alone, for values too long to show (old and new texts)."""
    return repr(list(values))


def rounded(score: float | None) -> str:
    """A score to two places, as every repr shows scores (0.2857142857142857 reads as 0.29)."""
    return "None" if score is None else f"{score:.2f}"


def settings(instance: object, *, always: tuple[str, ...] = ()) -> str:
    """`Class(name=value, ...)` for an attrs instance: the `always` fields, then those changed from their defaults.

    Fields not taken by `__init__` (what the object learnt while working) and fields marked
    `repr=False` (secrets, clients) are left out, as scikit-learn leaves out default settings;
    a field whose `repr` is a function is shown by it.
    """
    shown = []
    for field in attrs.fields(type(instance)):
        if not field.init or not field.repr:
            continue
        value = getattr(instance, field.name)
        if field.name not in always and _is_default(field, value):
            continue
        shown.append(f"{field.alias}={field.repr(value) if callable(field.repr) else _value(value)}")
    return f"{type(instance).__name__}({', '.join(shown)})"


def _is_default(field: attrs.Attribute, value: object) -> bool:
    default = field.default
    if default is attrs.NOTHING:
        return False
    if isinstance(default, attrs.Factory):
        if default.takes_self:
            return False
        default = default.factory()
    try:
        return bool(value == default)
    except Exception:  # a value whose == is not a plain bool (an array): show it
        return False


def _value(value: object) -> str:
    """Functions by name, paths as text, anything else by its own repr."""
    if inspect.isfunction(value) or inspect.ismethod(value) or inspect.isbuiltin(value):
        return value.__qualname__
    if isinstance(value, PurePath):
        return repr(str(value))
    return repr(value)
