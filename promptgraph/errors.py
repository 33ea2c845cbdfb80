"""`PromptgraphError`: the one base class to catch for any error promptgraph raises at its users.

Each public exception also keeps the built-in base it always had (a `LoadError` is still a
`ValueError`, a `TrainingError` still a `RuntimeError`), so existing `except` clauses keep working.
This module sits at the very bottom: it imports nothing from promptgraph, so every layer, `lm/`
included, can use it.
"""

MESSAGE_IN_REPR = 120  # characters of the message a repr shows


class PromptgraphError(Exception):
    """Something promptgraph refused or could not do; the message says what and how to fix it."""

    def __repr__(self) -> str:
        # A server's error body can be pages long: the repr (in a list, a Failure, a notebook) shows its start,
        # str() the whole message.
        if not self.args:
            return f"{type(self).__name__}()"
        text = str(self)
        cut = text if len(text) <= MESSAGE_IN_REPR else f"{text[:MESSAGE_IN_REPR]}…"
        return f"{type(self).__name__}({cut!r})"


class ArgumentError(TypeError, ValueError, PromptgraphError):
    """An argument of the wrong kind or value (a string for an LM, a negative count); the message names it.

    Both a TypeError and a ValueError: these refusals were one or the other before they said what to fix.
    """
