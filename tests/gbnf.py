"""Which texts a GBNF grammar admits, checked offline: the grammar, without recursion, as a Python regex.

llama-server's own grammar parser is not at hand without a built server, so tests read the
subset of GBNF promptgraph writes (string literals, character classes, groups, `|`, `*`, `+`,
`?`, `{m,n}`, rule names, one rule a line) into a regex and match replies against it. The local
backend's tests send the same grammars to the real parser.
"""

from __future__ import annotations

import json
import re

TOKEN = re.compile(
    r'\s*(?:(?P<literal>"(?:\\.|[^"\\])*")|(?P<klass>\[(?:\\.|[^\]\\])*\])|(?P<name>[a-zA-Z][a-zA-Z0-9-]*)'
    r"|(?P<operator>[()|*+?]|\{\d+(?:,\d*)?\}))"
)


def admits(grammar: str, text: str) -> bool:
    """Whether the whole of `text` is a sentence of the grammar."""
    rules = {}
    for line in grammar.splitlines():
        name, separator, body = line.partition("::=")
        assert separator, f"not a rule: {line!r}"
        assert name.strip() not in rules, f"the rule {name.strip()} is defined twice"
        rules[name.strip()] = body.strip()
    return re.fullmatch(_regex("root", rules, ()), text, re.DOTALL) is not None


def _regex(name: str, rules: dict[str, str], within: tuple[str, ...]) -> str:
    assert name in rules, f"the rule {name} is used but not defined"
    assert name not in within, f"the rule {name} is recursive: not a regex"
    body, position, parts = rules[name], 0, []
    while body[position:].strip():
        token = TOKEN.match(body, position)
        assert token, f"cannot read {body[position:]!r} in the rule {name}"
        position = token.end()
        if token["literal"]:
            parts.append(re.escape(json.loads(token["literal"])))  # GBNF's escapes are JSON's: \" \\ \n \r
        elif token["klass"]:
            parts.append(token["klass"])  # [^<\n], [0-9], [-+] read the same in both
        elif token["name"]:
            parts.append(f"(?:{_regex(token['name'], rules, (*within, name))})")
        else:
            parts.append("(?:" if token["operator"] == "(" else token["operator"])
    return "".join(parts)
