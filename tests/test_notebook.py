"""A compile result and a program in a notebook: their `_repr_html_` tables, with every text escaped."""

from html.parser import HTMLParser

import promptgraph as pg
from promptgraph import CompileResult, IterationRecord
from tests.scenario import classifier
from tests.test_compile import evaluation

ATTACK = "<script>alert('x')</script> & <b>bold</b>"


class Rows(HTMLParser):
    """The text of each table row's cells, and every tag the page opens."""

    def __init__(self, page: str):
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def result(kept=(True, True, False, True), values=None, ledger=None) -> CompileResult:
    history = tuple(
        IterationRecord(iteration=i, values=values or {"classify.system": "s"}, val=evaluation(0.5 + i / 10), kept=k)
        for i, k in enumerate(kept)
    )
    best = max(range(len(history)), key=lambda i: history[i].val.score)
    return CompileResult(program=classifier(), history=history, ledger=ledger or pg.Ledger(), best_iteration=best)


def test_a_compile_result_shows_a_row_per_iteration_with_its_validation_score():
    header, *rows = Rows(result()._repr_html_()).rows
    assert header[:3] == ["iteration", "validation", "change"]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("0", "0.500", ""),
        ("1", "0.600", "+0.100"),
        ("2", "0.700", "+0.100"),
        ("3", "0.800", "+0.100"),
    ]


def test_a_compile_result_marks_the_best_iteration_and_the_undone_ones():
    fates = [row[-1] for row in Rows(result()._repr_html_()).rows[1:]]
    assert fates[3] == "★ best"
    assert fates[2].startswith("undone")
    assert fates[0] == fates[1] == ""


def test_a_compile_result_says_its_cost_is_unknown_when_nothing_was_priced():
    ledger = pg.Ledger()
    ledger.record(pg.Response("x", "end_turn", pg.Usage(10, 1), "smollm2-135m"), tag="forward")
    summary = result(ledger=ledger)._repr_html_().split("</p>")[0]
    assert summary.endswith("3 iterations, cost unknown") and "$" not in summary


def test_a_compile_result_escapes_the_texts_it_shows():
    page = result(values={"classify.system": ATTACK})._repr_html_()
    assert "script" not in Rows(page).tags and "b" in Rows(page).tags  # our own <b>, never the model's
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_a_compile_result_folds_the_best_programs_texts():
    page = result(values={"classify.system": "Decide whether the question is sincere."})._repr_html_()
    assert "<details><summary>texts of the best program (iteration 3)</summary>" in page
    assert "Decide whether the question is sincere." in page


def pipeline() -> pg.Program:
    program = pg.Program(inputs=("text",))
    program.add("premises", pg.Generate("text -> premises", system=ATTACK))
    program.add("classify", pg.Classify(["a", "b"], inputs=("text", "premises")), premises="premises.premises")
    return program


def test_a_program_shows_its_nodes_in_running_order_with_what_they_read_and_write():
    header, *rows = Rows(pipeline()._repr_html_()).rows
    assert header == ["node", "module", "reads", "writes", "texts"]
    assert [row[:4] for row in rows] == [
        ["premises", "Generate", "text ← text", "premises"],
        ["classify", "Classify", "text ← textpremises ← premises.premises", "label"],
    ]


def test_a_program_names_its_answer():
    assert "answer <code>classify.label</code>" in pipeline()._repr_html_()


def test_a_program_escapes_its_texts():
    page = pipeline()._repr_html_()
    assert "script" not in Rows(page).tags
    assert "&lt;script&gt;" in page


def test_a_program_without_nodes_says_so():
    assert (
        pg.Program(inputs=("question",))._repr_html_()
        == "<div><b>Program</b> with inputs question and no nodes yet</div>"
    )


def test_a_program_counts_its_demos():
    program = pipeline()
    program.nodes["classify"].demos.update([pg.Demo({"text": "t", "premises": "p"}, "Label: <label>a</label>")] * 3)
    texts = Rows(program._repr_html_()).rows[2][4]
    assert texts.endswith("3 demos")
