"""The program graph drawing: geometry from svg.py, and how the report draws it."""

import re

import pytest

import promptgraph as pg
from promptgraph import Classify, Function, Generate, Program, ScriptedLM, TextualGradientDescent
from promptgraph.report import write_report
from promptgraph.report.svg import graph
from tests.scenario import FORMAT, LABELS, chain, chain_forward, graph_optimizer_lm, questions


@pytest.fixture(scope="module")
def run():
    return pg.compile(
        chain(frozen_tail=True),
        trainset=questions(40),
        lm=ScriptedLM(respond=chain_forward),
        optimizer=TextualGradientDescent(lm=graph_optimizer_lm()),
        iterations=2,
        samples_per_label=6,
        val_per_label=5,
        progress=False,
    )


@pytest.fixture(scope="module")
def html(run, tmp_path_factory):
    path = write_report(run.history, run.ledger, tmp_path_factory.mktemp("report"), program=run.program)
    return path.read_text(encoding="utf-8")


def wide() -> Program:
    """Two inputs, a renamed wiring, a Function, fan-out, edges that skip layers and a dead end."""
    program = Program(inputs=("text", "context"))
    program.add("retrieve_relevant_passages", Generate(inputs=("text",), outputs=("passages", "query")))
    program.add(
        "note", Generate(inputs=("text", "passages"), outputs=("note",)), passages="retrieve_relevant_passages.passages"
    )
    program.add("length", Function(len, inputs=("note",), outputs=("summary",)), note="note.note")
    program.add(
        "judge",
        Generate(inputs=("question", "evidence", "summary"), outputs=("verdict",)),
        question="text",
        evidence="retrieve_relevant_passages.query",
        summary="length.summary",
    )
    program.add(
        "classify",
        Classify(LABELS, inputs=("summary", "text", "verdict"), system=FORMAT),
        summary="length.summary",
        verdict="judge.verdict",
    )
    program.add("aside", Generate(inputs=("context",), outputs=("remark",)))
    program.output = "classify.label"
    program.nodes["note"].freeze()
    return program


def svg_of(html: str) -> str:
    return re.search(r'<svg class="graph".*?</svg>', html, re.DOTALL).group(0)


def test_graph_draws_one_box_per_module_and_per_program_input(run, html):
    svg = svg_of(html)

    assert re.findall(r'data-box="(\w+)" data-kind="(?:trainable|frozen|code)"', svg) == run.program.order()
    assert re.findall(r'data-box="(\w+)" data-kind="input"', svg) == ["text"]


def test_graph_draws_one_edge_per_wiring_that_reads_another_node(run, html):
    program = run.program
    reads = [
        (source.split(".")[0], node)
        for node in program.order()
        for source in program.wiring(node).values()
        if "." in source
    ]

    edges = re.findall(r'<path class="edge" data-from="(\w+)" data-to="(\w+)"', svg_of(html))

    assert (
        [edge for edge in edges if edge[0] in program.nodes]
        == reads
        == [("note", "summarise"), ("summarise", "classify")]
    )


def test_frozen_modules_are_drawn_as_frozen_and_explained_in_the_legend(html):
    svg = svg_of(html)

    assert 'data-box="note" data-kind="trainable"' in svg
    assert 'data-box="summarise" data-kind="frozen"' in svg and 'data-box="classify" data-kind="frozen"' in svg
    assert "Generate · frozen" in svg
    assert "frozen: its texts are not trained" in html


def test_the_answering_module_is_marked_and_leads_to_the_answer(html):
    svg = svg_of(html)

    assert re.search(r'data-box="classify"[^>]*>\s*<rect class="frozen output"', svg)
    assert '<path class="edge answer" data-from="classify" data-to=""' in svg
    assert 'data-box="label" data-kind="answer"' in svg


def test_boxes_of_a_wide_graph_neither_overlap_nor_leave_the_drawing():
    drawing = graph(wide())

    boxes = drawing.boxes
    for box in boxes:
        assert 0 < box.x and box.x + box.width < drawing.width and 0 < box.y and box.y + box.height < drawing.height
    for index, one in enumerate(boxes):
        for other in boxes[index + 1 :]:
            apart = (
                one.x + one.width <= other.x
                or other.x + other.width <= one.x
                or one.y + one.height <= other.y
                or other.y + other.height <= one.y
            )
            assert apart, (one.name, other.name)


def test_edges_that_skip_a_layer_run_above_every_box():
    drawing = graph(wide())

    top = min(box.y for box in drawing.boxes)
    skipping = {(edge.source, edge.target) for edge in drawing.edges if edge.lane is not None}
    assert skipping == {
        ("text", "note"),
        ("text", "judge"),
        ("text", "classify"),
        ("retrieve_relevant_passages", "judge"),
        ("length", "classify"),
    }
    for edge in drawing.edges:
        if edge.lane is not None:
            assert f",{edge.lane:.1f} L" in edge.path
            assert edge.lane < top and edge.label_y < top


def test_edges_carry_the_value_name_and_a_renaming():
    labels = {(edge.source, edge.target): edge.label for edge in graph(wide()).edges}

    assert labels["note", "length"] == "note"
    assert labels["retrieve_relevant_passages", "judge"] == "query → evidence"
    assert labels["text", "judge"] == "text → question"
    assert labels["text", "retrieve_relevant_passages"] == ""  # the input box already names it


def test_a_function_is_drawn_as_code_with_nothing_to_train():
    drawing = graph(wide())

    assert {box.name: box.kind for box in drawing.boxes}["length"] == "code"
    assert drawing.kinds == ("trainable", "frozen", "code")
