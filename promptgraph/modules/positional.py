"""One constructor convention for prompt modules: the signature, then keywords only.

`Generate(("question",), ("answer",))` took its inputs and outputs by position; today a
module's one positional argument is its signature (`"question -> answer"`, or a Classify's
labels) and everything else is a keyword, as `Prompt` has always had it. The old spelling
still builds the same module for one release, with a DeprecationWarning naming the
keywords to write instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from promptgraph.signature import Signature

OLD_POSITIONS = ("inputs", "outputs")  # what Generate(inputs, outputs) took by position


def signature_arguments(
    module: str, signature: Any, extra: Sequence[Any], *, inputs: Any, outputs: Any
) -> tuple[str | Signature | None, Any, Any]:
    """(signature, inputs, outputs) as today's keywords, taking the old positional inputs and outputs.

    `signature` is the first positional argument and `extra` the positional ones after it.
    """
    if len(extra) > 1:
        raise TypeError(f"{module}() takes a signature and keywords, not {1 + len(extra)} positional arguments")
    given = {"inputs": inputs, "outputs": outputs}
    if signature is not None and not isinstance(signature, str | Signature):  # names or a mapping: the inputs
        moved = dict(zip(OLD_POSITIONS, (signature, *extra), strict=False))
        signature = None
    else:  # after a signature, outputs: its own check says a signature and outputs= do not go together
        moved = {"outputs": extra[0]} if extra else {}
    twice = [name for name in moved if given[name] is not None]
    if twice:
        raise TypeError(f"{module}() got {', '.join(twice)} both by position and by keyword")
    if moved:
        keywords = ", ".join(f"{name}=..." for name in moved)
        warnings.warn(
            f"{module}() takes {' and '.join(moved)} by keyword now: write {module}({keywords}) "
            "(or a signature, 'question -> answer'); the positional form goes away in the next release",
            DeprecationWarning,
            stacklevel=3,
        )
    return signature, moved.get("inputs", inputs), moved.get("outputs", outputs)
