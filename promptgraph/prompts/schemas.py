"""The JSON each optimizer prompt asks for, as a schema: where the server has structured outputs
(`output_config.format` on the Messages API, a JSON schema on llama-server), the reply cannot
be anything else, so the repair round structured.py keeps for other servers is never needed.

Each schema says what its template's "What to write" section says, no more: the checks at
the call sites still judge the content (a known parameter, a text not emptied).
"""

from __future__ import annotations

from collections.abc import Sequence

TEXT = {"type": "string"}


def strict(properties: dict, required: Sequence[str] | None = None) -> dict:
    """An object with these properties and no others; all required unless `required` says fewer."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties if required is None else required),
        "additionalProperties": False,
    }


def texts(names: Sequence[str], *, required: bool = True) -> dict:
    """An object of a text per name (a parameter, an input); `required=False` lets a reply leave some out."""
    return strict({name: TEXT for name in names}, None if required else [])


def list_of(item: dict) -> dict:
    return {"type": "array", "items": item}


def critic(parameters: Sequence[str], inputs: Sequence[str]) -> dict:
    return strict(
        {"critique": TEXT, "parameters": texts(parameters, required=False), "inputs": texts(inputs, required=False)}
    )


def rewrite(parameters: Sequence[str], *, edits: bool) -> dict:
    if edits:
        edit = strict({"parameter": {"type": "string", "enum": list(parameters)}, "find": TEXT, "replace": TEXT})
        return strict({"reasoning": TEXT, "edits": list_of(edit)})
    return strict({"reasoning": TEXT, "values": texts(parameters, required=False)})


def values(parameters: Sequence[str]) -> dict:
    return strict({"values": texts(parameters, required=False)})


def proposals(parameters: Sequence[str]) -> dict:
    return strict({"proposals": list_of(texts(parameters, required=False))})


def texts_under(key: str) -> dict:
    """`{"<key>": ["...", ...]}`: instructions, summaries, examples."""
    return strict({key: list_of(TEXT)})
