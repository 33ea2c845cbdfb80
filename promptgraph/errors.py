"""`PromptgraphError`: the one base class to catch for any error promptgraph raises at its users.

Each public exception also keeps the built-in base it always had (a `LoadError` is still a
`ValueError`, a `TrainingError` still a `RuntimeError`), so existing `except` clauses keep working.
This module sits at the very bottom: it imports nothing from promptgraph, so every layer, `lm/`
included, can use it.
"""


class PromptgraphError(Exception):
    """Something promptgraph refused or could not do; the message says what and how to fix it."""
