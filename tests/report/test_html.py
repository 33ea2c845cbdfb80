"""The HTML run report, built from real training histories of the scripted scenario."""

import re

import pytest

import promptgraph as pg
from promptgraph.report import ReportWriter, write_report
from promptgraph.report.html import word_diff
from tests.scenario import (
    FORMAT,
    KEY_PHRASE,
    LABELS,
    chain,
    chain_forward,
    classifier,
    forward_lm,
    forward_reply,
    graph_critic,
    graph_rewriter,
    optimizer_lm,
    questions,
)


def train(trainset=None, *, lm=None, valset=None, iterations=2, samples_per_label=8, on_iteration=None):
    return pg.compile(
        classifier(),
        trainset=trainset or questions(40),
        valset=valset,
        lm=lm or forward_lm(),
        optimizer=pg.TextualGradientDescent(lm=optimizer_lm()),
        iterations=iterations,
        samples_per_label=samples_per_label,
        val_per_label=5,
        progress=False,
        on_iteration=on_iteration,
    )


@pytest.fixture(scope="module")
def run():
    # Iteration 1 learns the key phrase from its mistakes; iteration 2 makes none.
    return train()


def page(result, directory) -> str:
    return write_report(result.history, result.ledger, directory).read_text(encoding="utf-8")


def example_ids_in(html: str, section_id: str) -> list[str]:
    section = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.DOTALL).group(1)
    return re.findall(r'data-example="([^"]*)"', section)


def test_report_escapes_a_script_tag_in_an_example_text(tmp_path):
    # " all " makes the example insincere in the scenario; every example is sampled, so it is shown.
    evil = pg.Example({"text": "Why are all <script>alert(1)</script> people so bad?"}, "insincere", id="evil")
    result = train([*questions(8), evil], valset=questions(12)[8:], iterations=1, samples_per_label=100)
    assert "evil" in [trace.example.id for trace in result.history[1].samples]

    html = page(result, tmp_path)

    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_escapes_model_reply_text(tmp_path):
    lm = pg.ScriptedLM(respond=lambda request: "<b>bold</b> " + forward_reply(request), model="claude-haiku-5-5")

    html = page(train(lm=lm, iterations=1), tmp_path)

    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; Reasoning done." in html


def test_every_training_sample_appears_in_its_iteration(run, tmp_path):
    html = page(run, tmp_path)

    for record in run.history[1:]:
        shown = example_ids_in(html, f"iteration-{record.iteration}-samples")
        assert shown == [trace.example.id for trace in record.samples]


def test_mistakes_view_lists_exactly_the_wrong_samples(run, tmp_path):
    html = page(run, tmp_path)

    for record in run.history[1:]:
        wrong = [
            trace.example.id for trace, score in zip(record.samples, record.train.scores, strict=True) if score < 1.0
        ]
        assert example_ids_in(html, f"iteration-{record.iteration}-mistakes") == wrong
    assert example_ids_in(html, "iteration-1-mistakes")  # the scenario does make mistakes at first


def test_a_mistake_card_shows_the_metrics_feedback_escaped(tmp_path):
    def metric(example, prediction):
        return pg.Score(float(prediction == example.label), feedback=f"<i>wanted</i> {example.label}")

    result = pg.compile(
        classifier(),
        trainset=questions(16),
        lm=forward_lm(),
        optimizer=pg.TextualGradientDescent(lm=optimizer_lm()),
        metric=metric,
        iterations=1,
        val_per_label=2,
        progress=False,
    )
    html = page(result, tmp_path)

    mistakes = re.search(r'<section id="iteration-1-mistakes">(.*?)</section>', html, re.DOTALL).group(1)
    assert "&lt;i&gt;wanted&lt;/i&gt; insincere" in mistakes and "<i>wanted" not in html


def test_diff_marks_the_phrase_the_rewriter_inserted(run, tmp_path):
    html = page(run, tmp_path)

    iteration_1 = html[html.index('id="iteration-1"') : html.index('id="iteration-2"')]
    inserted = " ".join(re.findall(r"<ins>(.*?)</ins>", iteration_1, re.DOTALL))
    assert KEY_PHRASE in inserted


def test_word_diff_shows_a_replaced_word_as_deleted_then_inserted():
    assert word_diff("answer yes or no", "answer yes or maybe") == (
        ("same", "answer yes or "),
        ("del", "no"),
        ("ins", "maybe"),
    )


def test_chart_has_one_point_per_iteration_for_validation_metrics(run, tmp_path):
    html = page(run, tmp_path)

    for series in ("val accuracy", "val macro F1"):
        assert html.count(f'<circle data-series="{series}"') == len(run.history)
    # Iteration 0 has no training minibatch, so train accuracy starts at iteration 1.
    assert html.count('<circle data-series="train accuracy"') == len(run.history) - 1


def test_unpriced_model_cost_shows_as_unknown(tmp_path):
    lm = pg.ScriptedLM(respond=forward_reply, model="local-llama")

    html = page(train(lm=lm, iterations=1), tmp_path)

    assert re.search(r"<td>local-llama</td>.*?<td>unknown</td></tr>", html, re.DOTALL)
    assert "No list price for local-llama" in html


def test_page_loads_nothing_from_outside(run, tmp_path):
    html = page(run, tmp_path)

    assert "http" not in html
    assert "<link" not in html and "<script" not in html and "src=" not in html


def test_report_writer_called_twice_overwrites_index_and_leaves_no_temp_file(run, tmp_path):
    writer = ReportWriter(tmp_path / "report")

    writer(run.history[:1], run.ledger)
    first = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    writer(run.history, run.ledger)

    assert [path.name for path in (tmp_path / "report").iterdir()] == ["index.html"]
    second = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert 'id="iteration-2"' not in first and 'id="iteration-2"' in second


def test_report_writer_works_as_the_compile_callback(tmp_path):
    result = train(iterations=1, on_iteration=ReportWriter(tmp_path))

    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f'id="iteration-{len(result.history) - 1}"' in html


# -- programs of several modules -------------------------------------------------------


def train_graph(program, *, optimizer_lm=None, iterations=2):
    return pg.compile(
        program,
        trainset=questions(40),
        lm=pg.ScriptedLM(respond=chain_forward),
        optimizer=pg.TextualGradientDescent(lm=optimizer_lm or graph_optimizer_lm()),
        iterations=iterations,
        samples_per_label=6,
        val_per_label=5,
        progress=False,
    )


def graph_optimizer_lm(critic=graph_critic):
    return pg.ScriptedLM(respond=lambda r: critic(r) if r.tag == "critic" else graph_rewriter(r))


def graph_page(result, directory) -> str:
    path = write_report(result.history, result.ledger, directory, program=result.program)
    return path.read_text(encoding="utf-8")


def module_step(html: str, node: str, iteration: int) -> str:
    """What the module section of `node` shows for one iteration."""
    section = re.search(rf'<section id="module-{node}".*?</section>', html, re.DOTALL).group(0)
    steps = re.split(r'(?=<div class="step" data-iteration=")', section)
    return next(step for step in steps if step.startswith(f'<div class="step" data-iteration="{iteration}"'))


def with_function() -> pg.Program:
    """note -> length (a Function) -> classify (frozen), and an aside that feeds nothing."""
    program = pg.Program(inputs=("text",))
    program.add("note", pg.Generate(inputs=("text",), outputs=("note",)))
    program.add(
        "length",
        pg.Function(lambda note: f"{note} ({len(note.split())} words)", inputs=("note",), outputs=("summary",)),
        note="note.note",
    )
    program.add("classify", pg.Classify(LABELS, input="summary", system=FORMAT), summary="length.summary")
    program.add("aside", pg.Generate(inputs=("text",), outputs=("remark",)))
    program.output = "classify.label"
    program.nodes["classify"].freeze()
    return program


@pytest.fixture(scope="module")
def function_page(tmp_path_factory):
    return graph_page(train_graph(with_function(), iterations=1), tmp_path_factory.mktemp("function"))


@pytest.fixture(scope="module")
def chain_page(tmp_path_factory):
    # note learns the key phrase in iteration 1 from feedback passed down summarise and classify (both frozen).
    return graph_page(train_graph(chain(frozen_tail=True)), tmp_path_factory.mktemp("chain"))


def test_single_module_report_draws_the_graph_but_has_no_module_section(run, tmp_path):
    html = write_report(run.history, run.ledger, tmp_path, program=classifier()).read_text(encoding="utf-8")

    assert '<svg class="graph"' in html and 'data-box="classify"' in html
    assert 'id="modules"' not in html


def test_modules_are_shown_in_the_order_the_program_runs_them(chain_page):
    assert re.findall(r'<section id="module-(\w+)"', chain_page) == ["note", "summarise", "classify"]


def test_module_section_shows_the_feedback_note_received_from_summarise(chain_page):
    step = module_step(chain_page, "note", 1)

    received = re.findall(r'<dd class="received"><span class="small">from (.*?):</span>', step)
    assert len(received) == 1 and "critic of summarise" in received[0]
    assert "summarise needs its note to say whether the text generalises about a group." in step


def test_module_section_shows_what_a_module_sent_upstream(chain_page):
    step = module_step(chain_page, "summarise", 1)

    assert "sent upstream on input <code>note</code> (from <code>note.note</code>)" in step
    assert "summarise needs its note to say" in step


def test_changed_parameter_shows_its_inserted_phrase_in_its_own_module_section(chain_page):
    note = module_step(chain_page, "note", 1)

    assert '<span class="badge changed">changed</span>' in note
    assert KEY_PHRASE in " ".join(re.findall(r"<ins>(.*?)</ins>", note, re.DOTALL))
    assert "<ins>" not in module_step(chain_page, "summarise", 1)


def test_an_iteration_without_mistakes_says_nothing_was_critiqued(chain_page):
    assert "Nothing critiqued" in module_step(chain_page, "note", 2)


def test_function_module_shows_it_passed_feedback_through(function_page):
    length = module_step(function_page, "length", 1)

    assert "passed through unchanged to <code>note.note</code>" in length
    assert "from critic of classify, on length.summary" in length
    assert "passed through length" in module_step(function_page, "note", 1)


def test_a_module_that_received_nothing_says_so(function_page):
    assert "Received no feedback." in module_step(function_page, "aside", 1)


def test_feedback_text_in_the_module_section_is_escaped(tmp_path):
    def critic(request):
        return graph_critic(request).replace("nobody notes", "<script>alert(1)</script> nobody notes")

    html = graph_page(train_graph(chain(), optimizer_lm=graph_optimizer_lm(critic), iterations=1), tmp_path)

    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; nobody notes" in module_step(html, "note", 1)


def test_an_undone_iteration_is_marked_as_undone(tmp_path):
    import json as json_module

    from promptgraph import Example, ScriptedLM, TextualGradientDescent
    from promptgraph.report import write_report
    from tests.scenario import FORMAT, KEY_PHRASE, classifier, forward_reply, questions

    rewrites = iter([f"{KEY_PHRASE} {FORMAT}", f"Be careful. {FORMAT}", f"Be careful. {FORMAT}"])

    def respond(request):
        if request.tag == "critic":
            return json_module.dumps({"critique": "c", "parameters": {}, "inputs": {}})
        return json_module.dumps({"values": {"classify.system": next(rewrites)}})

    def forward(request):
        return "<label>insincere</label>" if "number 0?" in request.messages[-1].content else forward_reply(request)

    wrong = [Example({"text": "How do I bake bread number 0?"}, "sincere", id=f"w{i}") for i in range(30)]
    result = pg.compile(
        classifier(), trainset=questions(60) + wrong, lm=ScriptedLM(respond=forward),
        optimizer=TextualGradientDescent(lm=ScriptedLM(respond=respond)),
        iterations=2, samples_per_label=8, val_per_label=6, progress=False,
    )  # fmt: skip
    page = write_report(result.history, result.ledger, tmp_path).read_text()
    assert page.count("undone: it scored below the best so far") == 1


def test_a_search_shows_every_candidate_with_its_score_and_fate(tmp_path):
    from tests.search_world import optimizer_lm, train

    result = train(pg.BeamSearch(lm=optimizer_lm()), iterations=2)
    page = write_report(result.history, result.ledger, tmp_path).read_text()
    table = page[page.index('id="iteration-2-search"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r'<tr class="(kept|dropped)">', table)
    assert len(rows) == len(result.history[2].tried)
    assert rows.count("kept") == 3 and "dropped in round" in table and "critique of beam" in table


def test_calls_with_impossible_usage_are_said_to_be_unknown_not_priced(tmp_path):
    def unknown_usage(request):
        text = forward_reply(request)
        return pg.Response(text=text, stop_reason="end_turn", usage=pg.Usage.unknown(), model="claude-haiku-5-5")

    html = page(train(lm=pg.ScriptedLM(respond=unknown_usage), iterations=1), tmp_path)

    assert re.search(r"\d+ calls? reported impossible usage", html)


def test_the_report_shows_each_modules_fixed_answer_format_apart_from_its_texts(run, tmp_path):
    program = pg.Program.of(pg.Classify(["sincere", "insincere"]), name="classify")
    html = write_report(run.history, run.ledger, tmp_path, program=program).read_text(encoding="utf-8")
    section = html[html.index('<section id="formats"') :]
    section = section[: section.index("</section>")]
    assert "<code>classify</code>" in section and "text -&gt; label: one of: sincere, insincere" in section
    assert "End your reply with `Label: &lt;label&gt;X&lt;/label&gt;`" in section


def test_a_format_left_to_the_prompts_is_said_to_be_so(run, tmp_path):
    html = write_report(run.history, run.ledger, tmp_path, program=classifier()).read_text(encoding="utf-8")
    assert "the module's own prompts, or its parser, carry the format" in html
