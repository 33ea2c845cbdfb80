"""compile's `on_iteration`: one callback, or several in a list, told of every finished iteration in order.

A callback may also have `before_run(*, resume, overwrite)`: compile asks it once, before any call is paid,
and it may refuse the run by raising (a ReportWriter refuses to write over another run's report). Given
several in a list, compile asks each of them: a lambda that calls two callbacks would hide them from it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from promptgraph.history import IterationRecord
    from promptgraph.lm import Ledger
    from promptgraph.program import Program

IterationHook = Callable[["Sequence[IterationRecord]", "Ledger", "Program"], Any]


@attrs.frozen
class Hooks:
    """Several on_iteration callbacks as one, called and asked in the order given."""

    each: tuple[IterationHook, ...]

    def before_run(self, *, resume: bool, overwrite: bool) -> None:
        for hook in self.each:
            ask_before_run(hook, resume=resume, overwrite=overwrite)

    def __call__(self, history: Sequence[IterationRecord], ledger: Ledger, program: Program) -> None:
        for hook in self.each:
            hook(history, ledger, program)


def as_hook(on_iteration: IterationHook | Sequence[IterationHook] | None) -> IterationHook | None:
    """One callback as it is; a list or tuple of them as one Hooks."""
    if isinstance(on_iteration, (list, tuple)):
        return Hooks(tuple(on_iteration))
    return on_iteration


def ask_before_run(hook: IterationHook | None, *, resume: bool, overwrite: bool) -> None:
    """Ask a callback that has `before_run` whether the run may go on (it raises if not)."""
    before_run = getattr(hook, "before_run", None)
    if before_run is not None:
        before_run(resume=resume, overwrite=overwrite)
