"""Coordinates for the report's two drawings: the metrics chart and the program graph.

Only geometry is computed here (numbers, path strings, which box is which); the
template draws it, and every name or label reaches the page through autoescaping.
Text widths are estimates from character counts, generous enough for the report's fonts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from promptgraph.compile import IterationRecord, best_iteration
from promptgraph.module import Module
from promptgraph.program import Program

# -- the metrics chart -----------------------------------------------------------------


@attrs.frozen
class Point:
    x: float
    y: float
    iteration: int
    value: float


@attrs.frozen
class Series:
    name: str
    colour: str
    dash: str  # SVG stroke-dasharray; "" draws a solid line
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points)


@attrs.frozen
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    series: tuple[Series, ...]
    y_ticks: tuple[tuple[float, str], ...]  # (y, label)
    x_ticks: tuple[tuple[float, str], ...]  # (x, label)
    best: Point | None = None  # the best iteration's validation score, ringed
    undone: tuple[Point, ...] = ()  # the validation scores of undone iterations, crossed


# Metrics drawn on the chart; a series skips the iterations where its metric is None.
# Each has its own dash pattern, so lines that coincide (often, at 1.0) stay distinguishable.
CHART_METRICS: tuple[tuple[str, str, str, Callable[[IterationRecord], float | None]], ...] = (
    ("val accuracy", "#2563eb", "", lambda record: record.val.accuracy),
    ("val macro F1", "#d97706", "7 5", lambda record: record.val.macro_f1),
    ("train accuracy", "#059669", "2 4", lambda record: record.train.accuracy if record.train else None),
)


def chart(history: Sequence[IterationRecord], *, width: int = 640, height: int = 220) -> Chart:
    """SVG coordinates for each metric over the iterations, y from 0 (bottom) to 1 (top)."""
    left, right, top, bottom = 58, 16, 12, 40  # room for the axis titles
    plot_width, plot_height = width - left - right, height - top - bottom
    step = plot_width / (len(history) - 1) if len(history) > 1 else 0.0

    def x_of(index: int) -> float:
        return left + (index * step if len(history) > 1 else plot_width / 2)

    def y_of(value: float) -> float:
        return top + (1.0 - min(max(value, 0.0), 1.0)) * plot_height

    series = []
    for name, colour, dash, metric in CHART_METRICS:
        values = [(index, metric(record)) for index, record in enumerate(history)]
        points = tuple(
            Point(x_of(index), y_of(value), history[index].iteration, value)
            for index, value in values
            if value is not None
        )
        if points:
            series.append(Series(name, colour, dash, points))
    every = max(1, -(-len(history) // 12))  # at most about a dozen iteration labels
    validation = [Point(x_of(index), y_of(record.val.score), record.iteration, record.val.score)
                  for index, record in enumerate(history)]  # fmt: skip
    best = best_iteration(history) if history else None
    return Chart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        series=tuple(series),
        y_ticks=tuple((y_of(value), f"{value:.2f}") for value in (0.0, 0.25, 0.5, 0.75, 1.0)),
        x_ticks=tuple(
            (x_of(index), str(record.iteration)) for index, record in enumerate(history) if index % every == 0
        ),
        best=validation[best] if best is not None else None,
        undone=tuple(point for point, record in zip(validation, history, strict=True) if not record.kept),
    )


# -- the program graph -----------------------------------------------------------------

TRAINABLE, FROZEN, CODE = "trainable", "frozen", "code"  # what a module's box says about its texts
INPUT, ANSWER = "input", "answer"  # the boxes for the program's inputs and its answer

NAME_CHAR, SMALL_CHAR = 8.0, 6.6  # estimated widths of a character: 13px bold names, 11px labels
PORT = 18  # vertical room per edge end on a box's side, so edge labels never stack
LANE = 18  # vertical room per edge that skips a layer, routed above the boxes
GAP_Y, MARGIN = 22, 12


@attrs.frozen
class Box:
    name: str  # the node, program input or answer field
    kind: str  # TRAINABLE, FROZEN, CODE, INPUT or ANSWER
    subtitle: str  # the module type under a node's name; "" for the small boxes
    x: float
    y: float
    width: float
    height: float
    output: bool = False  # the node whose output is the program's answer

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@attrs.frozen
class Edge:
    source: str  # a node or program input name
    target: str  # a node name, or "" for the answer
    path: str  # SVG path data, ending at the target's left side
    label: str
    label_x: float
    label_y: float
    label_anchor: str  # SVG text-anchor
    lane: float | None = None  # for an edge that skips a layer, the height it runs at above the boxes


@attrs.frozen
class Graph:
    width: float
    height: float
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    kinds: tuple[str, ...]  # the module kinds present, for the legend


def node_kind(module: Module) -> str:
    """TRAINABLE if any of its texts trains, FROZEN if it has texts and none trains, CODE if it has none."""
    parameters = module.parameters()
    if not parameters:
        return CODE
    return TRAINABLE if any(parameter.trainable for parameter in parameters) else FROZEN


@attrs.frozen
class _Link:
    source: str
    output: str  # the source's output name, or the program input's name
    target: str
    field: str  # the target's input field; "" for the answer
    from_input: bool


def graph(program: Program) -> Graph:
    """Layers left to right: program inputs, then each generation of nodes, then the answer."""
    answer_node, answer_field = program.output.split(".", 1)
    links = [
        _Link(*(source.split(".", 1) if "." in source else (source, source)), node, field, "." not in source)
        for node in program.order()
        for field, source in program.wiring(node).items()
    ]
    links.append(_Link(answer_node, answer_field, "", "", False))
    columns = [list(program.inputs), *program.generations(), [""]]  # "" is the answer box
    layer = {name: index for index, names in enumerate(columns) for name in names}
    # Edges that skip a layer run in lanes above the boxes, the longest highest, so lanes nest.
    skips = sorted(
        (link for link in links if layer[link.target] - layer[link.source] > 1),
        key=lambda link: (layer[link.source] - layer[link.target], layer[link.source]),
    )
    top = MARGIN + LANE * len(skips) + (8 if skips else 0)

    def size(name: str, column: int) -> tuple[float, float, str, str]:
        if column == 0:
            leaving = sum(link.source == name and link.from_input for link in links)
            return max(56.0, len(name) * SMALL_CHAR + 24), max(26.0, 8.0 * leaving + 10), INPUT, ""
        if column == len(columns) - 1:
            return max(56.0, len(answer_field) * SMALL_CHAR + 24), 26.0, ANSWER, ""
        module = program.nodes[name]
        kind, subtitle = node_kind(module), type(module).__name__
        subtitle += " · frozen" if kind == FROZEN else ""
        ports = max(
            sum(link.target == name for link in links),
            sum(link.source == name and not link.from_input for link in links),
        )
        width = max(120.0, len(name) * NAME_CHAR + 28, len(subtitle) * SMALL_CHAR + 28)
        return width, max(46.0, PORT * ports + 10), kind, subtitle

    sizes = [[size(name, column) for name in names] for column, names in enumerate(columns)]
    widths = [max(width for width, *_ in column) for column in sizes]
    heights = [sum(height for _, height, *_ in column) + GAP_Y * (len(column) - 1) for column in sizes]
    # The room before each column holds the longest label of the edges arriving there.
    gaps = [0.0] + [
        max([56.0] + [len(_label(link)) * SMALL_CHAR + 40 for link in links if layer[link.target] == column])
        for column in range(1, len(columns))
    ]
    boxes: dict[str, Box] = {}
    x = MARGIN
    for column, names in enumerate(columns):
        x += gaps[column]
        y = top + (max(heights) - heights[column]) / 2
        for name, (_, height, kind, subtitle) in zip(names, sizes[column], strict=True):
            # boxes in a column share its width, so edges leave from one straight line
            boxes[name] = Box(name or answer_field, kind, subtitle, x, y, widths[column], height, name == answer_node)
            y += height + GAP_Y
        x += widths[column]
    edges = _edges(links, boxes, layer, skips, gaps)
    kinds = tuple(kind for kind in (TRAINABLE, FROZEN, CODE) if any(box.kind == kind for box in boxes.values()))
    return Graph(
        width=round(x + MARGIN, 1),
        height=round(top + max(heights) + MARGIN, 1),
        boxes=tuple(boxes.values()),
        edges=edges,
        kinds=kinds,
    )


def _label(link: _Link) -> str:
    """The value an edge carries: named on node edges, and wherever it is renamed."""
    if not link.field:
        return ""
    if link.field == link.output:
        return "" if link.from_input else link.output
    return f"{link.output} → {link.field}"


def _edges(links, boxes, layer, skips, gaps) -> tuple[Edge, ...]:
    # Spread each box's edge ends down its side: lane edges first, in lane order, then the
    # rest by where their other end is, so that edges cross as little as possible.
    def spread(ends: list[_Link], box: Box, other) -> dict[int, float]:
        ordered = sorted(
            ends,
            key=lambda link: (0, skips.index(link), "") if link in skips else (1, other(link).y, link.field),
        )
        step = box.height / (len(ordered) + 1)
        return {id(link): box.y + step * (index + 1) for index, link in enumerate(ordered)}

    out_y: dict[int, float] = {}
    in_y: dict[int, float] = {}
    for name, box in boxes.items():
        leaving = [link for link in links if link.source == name and link.from_input == (box.kind == INPUT)]
        arriving = [link for link in links if link.target == name]
        out_y |= spread(leaving, box, lambda link: boxes[link.target])
        in_y |= spread(arriving, box, lambda link: boxes[link.source])
    edges = []
    for link in links:
        source, target = boxes[link.source], boxes[link.target]
        sx, sy = source.x + source.width, out_y[id(link)]
        tx, ty = target.x, in_y[id(link)]
        if link in skips:  # up to a lane above every box, across, and down into the target
            lane = MARGIN + LANE * skips.index(link) + 6
            before, after = gaps[layer[link.source] + 1], gaps[layer[link.target]]
            path = (
                f"M{sx:.1f},{sy:.1f} C{sx + before / 2:.1f},{sy:.1f} {sx + before / 2:.1f},{lane:.1f} "
                f"{sx + before:.1f},{lane:.1f} L{tx - after:.1f},{lane:.1f} "
                f"C{tx - after / 2:.1f},{lane:.1f} {tx - after / 2:.1f},{ty:.1f} {tx:.1f},{ty:.1f}"
            )
            label_x, label_y, anchor = (sx + before + tx - after) / 2, lane - 4, "middle"
        else:
            lane = None
            middle = (sx + tx) / 2
            path = f"M{sx:.1f},{sy:.1f} C{middle:.1f},{sy:.1f} {middle:.1f},{ty:.1f} {tx:.1f},{ty:.1f}"
            label_x, label_y, anchor = tx - 14, ty - 4, "end"
        edges.append(Edge(link.source, link.target, path, _label(link), label_x, label_y, anchor, lane))
    return tuple(edges)
