import json

import pytest

import promptgraph as pg
from promptgraph import Classify, LoadError, Program, Prompt, TextualGradientDescent
from tests.scenario import LABELS, classifier, forward_lm, optimizer_lm, questions


def shout(text):
    """A parser defined at module level, so a saved program can import it again."""
    return text.split(":")[-1].strip().lower()


@pytest.fixture
def compiled():
    return pg.compile(
        classifier(""),
        trainset=questions(40),
        lm=forward_lm(),
        optimizer=TextualGradientDescent(lm=optimizer_lm()),
        iterations=2,
        samples_per_label=6,
        val_per_label=5,
        progress=False,
    ).program


def test_save_then_load_then_predict_gives_the_same_labels(tmp_path, compiled):
    loaded = pg.load(compiled.save(tmp_path / "p.json"))
    examples = questions(20)
    before = [t.prediction for t in compiled.run(examples, lm=forward_lm(), progress=False)]
    after = [t.prediction for t in loaded.run(examples, lm=forward_lm(), progress=False)]
    assert after == before
    assert loaded.values() == compiled.values()


def test_the_file_is_readable_json_with_values_history_metrics_and_cost(tmp_path, compiled):
    data = json.loads(compiled.save(tmp_path / "p.json").read_text())
    system = data["nodes"][0]["parameters"]["system"]
    assert system["value"] == compiled.nodes["classify"].system.value
    assert system["history"] == [""] + system["history"][1:]
    assert set(data["meta"]) >= {"metrics", "cost", "history", "best_iteration"}


def test_a_user_parser_is_saved_by_name_and_imported_again(tmp_path):
    program = Program.of(Classify(LABELS, parser=shout), name="c")
    loaded = pg.load(program.save(tmp_path / "p.json"))
    assert loaded("q", lm=pg.ScriptedLM(replies=["verdict: Insincere"])) == "insincere"


def test_a_lambda_parser_cannot_be_saved_and_the_error_says_what_to_do(tmp_path):
    program = Program.of(Classify(LABELS, parser=lambda text: text), name="c")
    with pytest.raises(TypeError, match="top-level function"):
        program.save(tmp_path / "p.json")


def test_a_multi_module_program_round_trips(tmp_path):
    program = Program(inputs=("question",))
    program.add("draft", Prompt(inputs=("question",), outputs=("draft",), system="think"))
    program.add("judge", Classify(LABELS, input="draft"), draft="draft.draft")
    program.nodes["draft"].system.trainable = False
    loaded = pg.load(program.save(tmp_path / "p.json"))
    assert loaded.values() == program.values()
    assert loaded.wiring("judge") == {"draft": "draft.draft"}
    assert loaded.nodes["draft"].system.trainable is False


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda text: text[:-20], "not valid JSON"),
        (lambda text: text.replace("promptgraph.program/1", "other/9"), "not a saved promptgraph program"),
        (lambda text: text.replace('"system"', '"sistem"'), "the file has parameters"),
        (lambda text: text.replace("promptgraph.modules.classify:Classify", "os:system"), "not a promptgraph Module"),
    ],
)
def test_a_corrupted_file_gives_a_clear_error(tmp_path, compiled, corrupt, message):
    path = compiled.save(tmp_path / "p.json")
    path.write_text(corrupt(path.read_text()))
    with pytest.raises(LoadError, match=message):
        pg.load(path)


def test_loading_bad_values_into_a_program_changes_nothing(tmp_path, compiled):
    path = compiled.save(tmp_path / "p.json")
    data = json.loads(path.read_text())
    data["nodes"][0]["parameters"]["suffix"]["value"] = 42
    path.write_text(json.dumps(data))
    target = classifier("keep me")
    with pytest.raises(LoadError, match="needs a string 'value'"):
        target.load_values(path)
    assert target.values()["classify.system"] == "keep me"


def test_values_load_into_a_program_built_in_code(tmp_path, compiled):
    target = classifier("")
    target.load_values(compiled.save(tmp_path / "p.json"))
    assert target.values() == compiled.values()


def test_demos_are_saved_and_loaded_with_their_history(tmp_path):
    from promptgraph.parameter import Demo

    program = classifier("x")
    demos = program.nodes["classify"].demos
    demos.update([Demo({"text": "Why are all cats bad?"}, "Label: <label>insincere</label>")])
    loaded = pg.load(program.save(tmp_path / "p.json"))
    assert loaded.demo_values() == program.demo_values()
    assert loaded.nodes["classify"].demos.history == [[]]


def test_malformed_demos_are_refused_before_anything_changes(tmp_path):
    program = classifier("x")
    path = program.save(tmp_path / "p.json")
    data = json.loads(path.read_text())
    data["nodes"][0]["demos"]["demos"]["pairs"] = [{"inputs": "not a mapping", "output": "x"}]
    path.write_text(json.dumps(data))
    target = classifier("keep")
    with pytest.raises(LoadError, match="need 'pairs'"):
        target.load_values(path)
    assert target.values()["classify.system"] == "keep"
