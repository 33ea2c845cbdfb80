"""What a reader finds on the report page, checked on the parsed HTML: which texts produced which
replies, what a step was diffed against, a pipeline's middle, the summary, what is collapsed, costs."""

import json

import pytest

import promptgraph as pg
from promptgraph.parameter import Demo
from promptgraph.report import RunSetup, write_report
from tests.optimizers.test_knn import nearest_label
from tests.report.page import parse
from tests.scenario import (
    GROUP_NOTE,
    KEY_PHRASE,
    classifier,
    forward_lm,
    forward_reply,
    optimizer_lm,
    optimizer_reply,
    pipeline_run,
    questions,
    undoing_run,
)


def train(*, lm=None, optimizer=None, iterations=2, trainset=None, program=None):
    return pg.compile(
        program or classifier(),
        trainset=trainset or questions(40),
        lm=lm or forward_lm(),
        optimizer=optimizer or pg.TextualGradientDescent(lm=optimizer_lm()),
        iterations=iterations,
        samples_per_label=8,
        val_per_label=5,
        progress=False,
    )


def report(result, directory, program=None):
    path = write_report(result.history, result.ledger, directory, program=program)
    return parse(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def run():
    return train()  # iteration 1 learns the key phrase from its mistakes; iteration 2 makes none


@pytest.fixture(scope="module")
def page(run, tmp_path_factory):
    return report(run, tmp_path_factory.mktemp("page"))


@pytest.fixture(scope="module")
def undone(tmp_path_factory):
    result = undoing_run()
    assert [record.kept for record in result.history] == [True, True, False, False]
    return report(result, tmp_path_factory.mktemp("undone"))


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    result = pipeline_run()
    return report(result, tmp_path_factory.mktemp("pipeline"), program=result.program)


# -- 1. each panel: one program, and the texts that produced each sample ---------------


def test_training_samples_are_labelled_as_replies_to_the_texts_the_step_started_from(page):
    panel = page.by_id("iteration-1")

    labels = {element.attributes["data-texts"] for element in panel.all(cls="evidence")}
    training = [e.text for e in panel.all(cls="evidence") if "started from" in e.text]
    assert labels == {"0", "1"}
    assert training and all("replies to the texts of iteration 0" in text for text in training)


def test_validation_is_labelled_as_replies_to_the_panels_own_texts(page):
    validation = page.by_id("iteration-1").first(cls="evidence")

    assert validation.attributes["data-texts"] == "1"
    assert "replies to the texts of iteration 1" in validation.text


def test_validation_mistakes_are_shown_with_the_program_they_belong_to(page, run):
    section = page.by_id("iteration-0-val-mistakes")

    shown = [card.attributes["data-example"] for card in section.all(cls="sample")]
    wrong = [t.example.id for t, s in zip(run.history[0].val_samples, run.history[0].val.scores, strict=True) if s < 1]
    assert wrong and sorted(shown) == sorted(wrong)


# -- 2. the diff's base after an undone step, and the undone marks --------------------


def test_a_step_after_an_undone_one_is_diffed_against_what_it_started_from(undone):
    heading = undone.by_id("iteration-3").first("h3")

    assert "diffed against iteration 1, which this step started from" in heading.text


def test_undone_wears_the_warning_colour_not_the_blue_of_best(undone):
    badges = list(undone.by_id("iteration-2").all(cls="badge"))

    assert any("undone" in badge.classes and "undone" in badge.text for badge in badges)
    assert not any("best" in badge.classes for badge in badges)


def test_undone_iterations_are_marked_in_the_navigation_and_on_the_chart(undone):
    navigation = undone.first("nav")
    marked = [link.attributes["href"] for link in navigation.all("a", cls="undone")]
    crossed = [mark.attributes["data-iteration"] for mark in undone.by_id("chart").all(cls="undone-mark")]

    assert marked == ["#iteration-2", "#iteration-3"]
    assert crossed == ["2", "3"]


def test_the_chart_marks_the_best_iteration_and_names_its_axes(page, run):
    chart = page.by_id("chart")

    assert chart.first(cls="best-mark").attributes["data-iteration"] == str(run.best_iteration)
    assert {axis.text for axis in chart.all("text", cls="axis")} == {"iteration", "score (0 to 1)"}


# -- 3. a pipeline's middle ------------------------------------------------------------


def test_a_pipeline_sample_shows_every_modules_inputs_and_outputs_collapsed(pipeline):
    card = next(pipeline.by_id("iteration-1-mistakes").all(cls="sample"))
    modules = card.first("details", cls="pipeline")

    nodes = {node.attributes["data-module"]: node.text for node in modules.all(cls="node")}
    assert list(nodes) == ["note", "summarise", "classify"]
    assert "out note" in nodes["note"] and "in note" in nodes["summarise"]
    assert "an ordinary question" in nodes["note"]  # what the first module said, before the rewrite
    assert modules.first(cls="node").collapsed()


def test_a_pipelines_validation_mistakes_show_the_modules_too(pipeline):
    section = pipeline.by_id("iteration-0-val-mistakes")

    cards = list(section.all(cls="sample"))
    assert cards and all(list(card.all("details", cls="pipeline")) for card in cards)
    assert all(GROUP_NOTE not in card.text for card in cards)  # the note that would have made them right is missing


# -- 4. the summary, contents, collapsed lists, grouped mistakes, filter, costs --------


def test_the_summary_holds_the_best_programs_texts(page, run):
    texts = page.by_id("summary").first(cls="values").text

    assert run.best.values["classify.system"] in texts and KEY_PHRASE in texts


def test_the_summary_shows_what_the_history_knows_when_there_is_no_command_json(page):
    settings = page.by_id("settings").text

    assert "validation examples" in settings and "iterations run" in settings


def test_the_summary_shows_the_command_lines_settings_from_command_json(run, tmp_path):
    (tmp_path / "command.json").write_text(json.dumps({"samples_per_label": 8, "optimizer": "tgd", "quiet": False}))

    page = report(run, tmp_path / "report")

    settings = page.by_id("settings").text
    assert "samples_per_label8" in settings.replace(" ", "") and "optimizer" in settings and "quiet" not in settings


def test_the_contents_stay_in_view(page):
    style = page.first("style").text

    assert "nav.toc { position: sticky;" in style
    assert [a.attributes["href"] for a in page.first("nav").all("a")][:2] == ["#summary", "#chart"]


def test_long_lists_are_collapsed(page):
    iteration = page.by_id("iteration-1")

    assert all(card.collapsed() for card in iteration.all(cls="sample"))
    assert page.by_id("iteration-1-samples").collapsed()
    ids = [d for d in iteration.all("details") if d.first("summary").text.startswith("examples shown to the critic")]
    assert ids and all("open" not in d.attributes for d in ids)


def test_only_the_best_latest_and_first_texts_are_open(undone):
    opened = {panel.id: "open" in panel.first("details", cls="texts").attributes for panel in undone.all("article")}

    assert opened == {"iteration-0": True, "iteration-1": True, "iteration-2": False, "iteration-3": True}


def test_each_confusion_count_links_to_the_mistakes_of_its_cell(page, run):
    panel = page.by_id("iteration-1")
    links = [a for a in panel.all("a") if a.attributes.get("title") == "the mistakes of this cell"]

    assert links
    for link in links:
        group = page.by_id(link.attributes["href"][1:])
        assert group.tag == "details" and len(list(group.all(cls="sample"))) == int(link.text)


def test_the_label_filter_hides_the_other_labels_samples_with_css_alone(page):
    style = page.first("style").text

    assert [i.id for i in page.all("input")] == ["label-filter-all", "label-filter-0", "label-filter-1"]
    assert "body:has(#label-filter-1:checked) .sample:not(.label-1) { display: none; }" in style
    assert all({"label-0", "label-1"} & card.classes for card in page.all(cls="sample"))


def test_the_cost_of_unpriced_models_reads_unknown(tmp_path):
    unpriced = pg.ScriptedLM(respond=forward_reply, model="local-llama")
    optimizer = pg.TextualGradientDescent(lm=pg.ScriptedLM(respond=optimizer_reply, model="local-opus"))

    page = report(train(lm=unpriced, optimizer=optimizer, iterations=1), tmp_path)

    facts = {fact.first("dt").text: fact.first("dd").text for fact in page.first("dl", cls="facts").all("div")}
    assert facts["total cost"] == "unknown"
    assert "$0.0000" not in page.text


# -- 5. every search is visible -----------------------------------------------------------


@pytest.mark.parametrize("optimizer", [pg.BeamSearch, pg.OPRO, pg.ParetoSearch])
def test_every_search_shows_each_candidate_with_its_score_and_fate(optimizer, tmp_path):
    from tests.search_world import optimizer_lm as search_lm
    from tests.search_world import train as search

    result = search(optimizer(lm=search_lm()), iterations=2)
    page = report(result, tmp_path)

    for record in result.history[1:]:
        rows = list(page.by_id(f"iteration-{record.iteration}-search").first("tbody").all("tr"))
        assert len(rows) == len(record.tried)
        for row, tried in zip(rows, record.tried, strict=True):
            cells = [cell.text for cell in row.all("td")]
            assert cells[2] == (f"{tried.score:.3f}" if tried.score is not None else "not scored")
            assert cells[4] == tried.decision


# -- 6. a step that took no training minibatch --------------------------------------------


@pytest.fixture(scope="module")
def knn(tmp_path_factory):
    result = train(lm=pg.ScriptedLM(respond=nearest_label), optimizer=pg.KNNDemos(), iterations=3)
    assert result.history[1].train is None  # its pool comes from the labels: compile ran no minibatch
    return report(result, tmp_path_factory.mktemp("knn"), program=result.program)


def test_a_step_that_took_no_training_minibatch_says_why_and_not_that_iteration_0_only_validates(knn):
    training = next(block for block in knn.by_id("iteration-1").all(cls="evidence-block") if "Training" in block.text)

    assert "iteration 0 only validates" not in training.text
    assert "no training minibatch" in training.text and "labels" in training.text


def test_a_step_that_took_no_training_minibatch_shows_no_training_mistakes_section(knn):
    assert "Mistakes on the training minibatch" not in knn.by_id("iteration-1").text


def test_iteration_0_still_says_it_only_validates_the_program_as_given(knn):
    assert "iteration 0 only validates the program as given" in knn.by_id("iteration-0").text


# -- 7. what the run really ran on ---------------------------------------------------------

LOCAL = RunSetup(
    backend="local: llama-server on 127.0.0.1",
    model="SmolLM2-135M-Instruct.Q4_1",
    optimizer="knn: KNNDemos(k=4), each input shown the training examples nearest it",
)
COMMAND_DEFAULTS = {"model": "claude-haiku-5-5", "optimizer_model": "claude-opus-5-5", "optimizer_effort": "high",
                    "samples_per_label": 8}  # fmt: skip


def knn_report(directory, setup=LOCAL):
    result = train(lm=pg.ScriptedLM(respond=nearest_label), optimizer=pg.KNNDemos(), iterations=3)
    (directory / "command.json").write_text(json.dumps(COMMAND_DEFAULTS))
    path = write_report(result.history, result.ledger, directory / "report", program=result.program, setup=setup)
    return parse(path.read_text(encoding="utf-8"))


def settings_of(page):
    return {item.first("dt").text: item.first("dd").text for item in page.by_id("settings").all("div")}


def test_the_settings_show_the_model_that_ran_not_command_jsons_defaults(tmp_path):
    settings = settings_of(knn_report(tmp_path))

    assert settings["model"] == "SmolLM2-135M-Instruct.Q4_1" and settings["backend"].startswith("local")
    assert "claude" not in " ".join(settings.values())
    assert settings["samples_per_label"] == "8"  # the rest of the command line stays


def test_an_optimizer_that_calls_no_model_shows_no_optimizer_model_nor_its_effort(tmp_path):
    settings = settings_of(knn_report(tmp_path))

    assert not {"optimizer model", "optimizer_model", "optimizer_effort"} & set(settings)


def test_an_optimizer_that_calls_a_model_shows_it(tmp_path):
    setup = RunSetup(backend="Claude", model="claude-haiku-5-5", optimizer="tgd", optimizer_model="claude-opus-5-5")

    assert settings_of(knn_report(tmp_path, setup))["optimizer model"] == "claude-opus-5-5"


def test_the_settings_name_the_optimizer_with_k_and_the_pool_size(tmp_path):
    optimizer = settings_of(knn_report(tmp_path))["optimizer"]

    assert optimizer.startswith("knn: KNNDemos(k=4)")
    assert "a pool of 30 training examples, the 4 nearest shown to each input" in optimizer


def test_a_retrieval_pool_reads_as_a_pool_not_as_that_many_few_shot_demos(knn):
    line = knn.by_id("summary").first("p", cls="demos").text

    assert line == "classify.demos: a pool of 30 training examples, the 4 nearest shown to each input (bm25)"
    assert "few-shot" not in knn.by_id("summary").text


def test_fixed_demos_still_read_as_few_shot_demos(tmp_path):
    program = classifier()
    program.nodes["classify"].demos.update(
        [Demo({"text": "Why is the sky blue?"}, "Label: <label>sincere</label>")] * 2
    )
    result = train(trainset=questions(40), iterations=0, program=program)

    page = report(result, tmp_path, program=result.program)

    assert page.by_id("summary").first("p", cls="demos").text == "classify.demos: 2 few-shot demos"


def test_the_summary_says_why_the_run_stopped_early(knn):
    assert "knn: the demo pool is set" in knn.by_id("stopped").text


def test_the_chart_legend_explains_train_accuracy_only_where_its_line_is_drawn(knn, page):
    assert "Train accuracy" not in knn.by_id("chart").first(cls="legend").text
    assert "Train accuracy" in page.by_id("chart").first(cls="legend").text


def test_a_step_that_changed_only_demos_says_so_beside_its_unchanged_texts(knn):
    texts = knn.by_id("iteration-1").first("details", cls="texts")

    assert "0 changed" in texts.first("summary").text and "demos changed" in texts.first("summary").text
    assert "classify.demos: a pool of 30 training examples" in texts.text


def test_a_resumed_runs_report_keeps_the_page_written_before_the_resume_and_links_it(tmp_path):
    """A checkpoint keeps no replies, so the resumed page cannot show the earlier iterations' samples:
    the page that did is kept beside it, never written over."""
    options = {"trainset": questions(40), "optimizer": pg.TextualGradientDescent(lm=optimizer_lm())}
    options |= {"samples_per_label": 8, "val_per_label": 5, "progress": False, "run_dir": tmp_path / "run"}
    directory = tmp_path / "report"
    pg.compile(classifier(), lm=forward_lm(), iterations=1, on_iteration=pg.ReportWriter(directory), **options)
    before = (directory / "index.html").read_text(encoding="utf-8")
    resumed = pg.compile(classifier(), lm=forward_lm(), iterations=2, resume=True, **options)
    for _ in range(2):  # every write of the resumed run: the earlier page is kept once, as it was
        write_report(resumed.history, resumed.ledger, directory)
    kept = directory / "index-before-resume-at-iteration-2.html"
    assert kept.read_text(encoding="utf-8") == before
    now = (directory / "index.html").read_text(encoding="utf-8")
    assert 'href="index-before-resume-at-iteration-2.html"' in now
    assert sorted(path.name for path in directory.iterdir()) == [
        "index-before-resume-at-iteration-2.html",
        "index.html",
    ]
