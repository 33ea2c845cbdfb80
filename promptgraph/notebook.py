"""What a compile result and a program show in a notebook (Jupyter's `_repr_html_`): a table each.

A compile result shows one row per iteration (validation, training minibatch, calls and
dollars so far, kept or undone), the best iteration marked, and the best texts folded
away; a program shows its nodes in running order, what each reads and writes, and its
texts. The report's SVG graph is not used: report/ sits above program.py and compile,
and these tables must be importable from both. Every text that came from a model, a user
or a data file is escaped, so a prompt holding `<script>` is shown, never run.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING

from promptgraph.lm.ledger import cost_text

if TYPE_CHECKING:
    from promptgraph.history import CompileResult
    from promptgraph.module import Module
    from promptgraph.program import Program

TEXT_SHOWN = 60  # characters of a text in a folded row: enough to recognise it
TABLE = 'style="border-collapse: collapse; text-align: left"'
CELL = 'style="padding: 2px 8px; border-bottom: 1px solid #ddd; vertical-align: top"'
BEST = "font-weight: bold; background: #e8f4e8"
UNDONE = "color: #b35900"  # a warning colour, never the colour of the best


def result_html(result: CompileResult) -> str:
    """The run's summary: every iteration as a row, the best marked, the cost, and the best texts folded."""
    rows = [_iteration_row(index, result) for index in range(len(result.history))]
    stopped = f"<p>stopped early: {_text(result.stopped)}</p>" if result.stopped else ""
    header = ("iteration", "validation", "change", "training minibatch", "calls so far", "USD so far", "")
    trained = len(result.history) - 1  # iteration 0 is the program as given
    return (
        f"<div><p><b>CompileResult</b>: best is iteration {result.best_iteration}, validation "
        f"{result.best.val.score:.3f} from {result.history[0].val.score:.3f}, {trained} "
        f"iteration{'s' if trained != 1 else ''}, {_text(cost_text(result.ledger.accounts()))}</p>"
        f"{stopped}{_table(header, rows)}"
        f"<details><summary>texts of the best program (iteration {result.best_iteration})</summary>"
        f"{_texts(result.best.values.items())}</details></div>"
    )


def _iteration_row(index: int, result: CompileResult) -> tuple[str, str]:
    record = result.history[index]
    change = f"{record.val.score - result.history[index - 1].val.score:+.3f}" if index else ""
    train = f"{record.train.score:.3f}" if record.train is not None else ""
    if index == result.best_iteration:
        style, fate = BEST, "★ best"
    elif not record.kept:
        style, fate = UNDONE, "undone: lost to the best, training went on from it"
    else:
        style, fate = "", ""
    usd = f"{record.usd:.4f}" if record.usd else ""  # 0: nothing paid, or nothing priced
    cells = (
        str(record.iteration),
        f"{record.val.score:.3f}",
        change,
        train,
        str(sum(record.calls.values())),
        usd,
        fate,
    )
    return style, "".join(f"<td {CELL}>{_text(cell)}</td>" for cell in cells)


def program_html(program: Program) -> str:
    """The program's nodes in running order: what each reads (from an input or a node) and writes, and its texts."""
    if not program.nodes:
        return f"<div><b>Program</b> with inputs {_text(', '.join(program.inputs))} and no nodes yet</div>"
    rows = [("", _node_cells(name, program.nodes[name], program.wiring(name))) for name in program.order()]
    header = ("node", "module", "reads", "writes", "texts")
    return (
        f"<div><p><b>Program</b>: inputs {_text(', '.join(program.inputs))}; answer "
        f"<code>{_text(program.output)}</code></p>{_table(header, rows)}</div>"
    )


def _node_cells(name: str, module: Module, wiring: dict[str, str]) -> str:
    reads = "<br>".join(f"{_text(field)} ← <code>{_text(source)}</code>" for field, source in wiring.items())
    texts = _texts((path, parameter.value) for path, parameter in module.named_parameters() if parameter.value)
    demos = sum(len(demos.pairs) for _, demos in module.named_demos())
    texts += f"<br>{demos} demo{'s' if demos != 1 else ''}" if demos else ""
    cells = (f"<b>{_text(name)}</b>", _text(type(module).__name__), reads, _text(", ".join(module.outputs)), texts)
    return "".join(f"<td {CELL}>{cell}</td>" for cell in cells)


def _texts(texts: Iterable[tuple[str, str]]) -> str:
    """Each text folded: its name and start on one line, the whole text when unfolded."""
    return "".join(
        f"<details><summary><code>{_text(name)}</code>: {_text(_start(value))}</summary>"
        f'<pre style="white-space: pre-wrap">{_text(value)}</pre></details>'
        for name, value in texts
    )


def _start(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_SHOWN else f"{flat[:TEXT_SHOWN]}… ({len(text)} chars)"


def _table(header: tuple[str, ...], rows: list[tuple[str, str]]) -> str:
    """A table of `(row style, cells HTML)` rows; the cells are escaped by their makers."""
    head = "".join(f"<th {CELL}>{_text(name)}</th>" for name in header)
    body = "".join(f'<tr style="{style}">{cells}</tr>' if style else f"<tr>{cells}</tr>" for style, cells in rows)
    return f"<table {TABLE}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)
