"""A Message Batches item's `custom_id`: which request it is, and what it is (its tag).

A call carries its tag (forward, critic, rewrite, ...) in a header, but a batch item has no
headers, only its `custom_id`, which the API limits to `[a-zA-Z0-9_-]{1,64}`. So an id is
the tag, escaped to those characters, a dash, then the first 32 hex digits (128 bits) of the
request's cache key: unique within any batch, and still naming the request the way a whole
key did. Batches submitted before ids carried tags used the whole key as the id; both forms
are read.

Escaping: letters and digits stand for themselves, every other byte of the tag's UTF-8 is
`_` and two hex digits (a space is `_20`), so the dash cannot occur inside a tag.
"""

from __future__ import annotations

import re

MAX_ID_CHARS = 64  # the API's limit on a custom_id
KEY_CHARS = 32  # of a request key's 64 hex digits: 128 bits, no collision within a batch
TAG_CHARS = MAX_ID_CHARS - KEY_CHARS - 1  # what is left for the escaped tag, after the dash
ESCAPED = re.compile(r"_([0-9a-f]{2})")
PLAIN = re.compile(r"[A-Za-z0-9]")


def item_id(key: str, tag: str) -> str:
    """The custom_id of the batch item for the request with this cache key and tag.

    A tag too long for the id is left out (the item then reads as untagged), never cut:
    a cut tag would name another kind of request.
    """
    escaped = "".join(char if PLAIN.fullmatch(char) else _escape(char) for char in tag)
    if len(escaped) > TAG_CHARS:
        return key[:KEY_CHARS]
    return f"{escaped}-{key[:KEY_CHARS]}"


def item_tag(custom_id: str) -> str | None:
    """The tag an item's id carries; None for an id without one (too long a tag, or made before ids had tags)."""
    if "-" not in custom_id:
        return None
    return _unescape(custom_id.rsplit("-", 1)[0])


def request_of(custom_id: str) -> str:
    """What names the request in an id, as in the request's own cache key (itself an id of the old form)."""
    return custom_id.rsplit("-", 1)[-1][:KEY_CHARS]


def _escape(char: str) -> str:
    return "".join(f"_{byte:02x}" for byte in char.encode())


def _unescape(escaped: str) -> str:
    data = bytearray()
    position = 0
    for match in ESCAPED.finditer(escaped):
        data += escaped[position : match.start()].encode() + bytes([int(match.group(1), 16)])
        position = match.end()
    return (data + escaped[position:].encode()).decode()
