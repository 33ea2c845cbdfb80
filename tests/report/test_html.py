"""The HTML run report, built from real training histories of the scripted scenario."""

import re

import pytest

import promptgraph as pg
from promptgraph.report import ReportWriter, write_report
from promptgraph.report.html import word_diff
from tests.scenario import KEY_PHRASE, classifier, forward_lm, forward_reply, optimizer_lm, questions


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
    result = train([*questions(8), evil], valset=questions(4), iterations=1, samples_per_label=100)
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
