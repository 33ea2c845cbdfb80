import json
import sys

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


def test_a_user_parser_is_saved_by_name_and_imported_again_when_trusted(tmp_path):
    program = Program.of(Classify(LABELS, parser=shout), name="c")
    loaded = pg.load(program.save(tmp_path / "p.json"), trust_code=True)
    assert loaded("q", lm=pg.ScriptedLM(replies=["verdict: Insincere"])).label == "insincere"


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
        (
            lambda text: text.replace("promptgraph.modules.classify:Classify", "os:system"),
            "not one of promptgraph's own",
        ),
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


# -- a saved program names no code that loading would run ------------------------------------


def saved_with(tmp_path, program, field, reference):
    """The program saved, then its first node's `type`, or a config field, rewritten to name `reference`."""
    path = program.save(tmp_path / "p.json")
    data = json.loads(path.read_text())
    node = data["nodes"][0]
    if field == "type":
        node["type"] = reference
    else:
        node["config"][field] = reference
    path.write_text(json.dumps(data))
    return path


def test_a_function_node_naming_a_shell_command_runner_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "PWN"
    program = Program.of(pg.Function(shout, inputs=("text",), outputs=("loud",)), name="f")
    path = saved_with(tmp_path, program, "function", "subprocess:getoutput")
    with pytest.raises(LoadError, match="'subprocess:getoutput'"):
        pg.load(path)(f"touch {marker}", lm=pg.ScriptedLM())
    assert not marker.exists()


def test_a_parser_naming_a_shell_command_runner_is_refused_and_runs_no_reply(tmp_path):
    marker = tmp_path / "PWN"
    program = Program.of(Classify(LABELS, parser=shout), name="c")
    path = saved_with(tmp_path, program, "parser", "subprocess:getoutput")
    with pytest.raises(LoadError, match="'subprocess:getoutput'"):
        pg.load(path)("q", lm=pg.ScriptedLM(replies=[f"touch {marker}"]))
    assert not marker.exists()


def test_a_type_naming_a_module_that_prints_on_import_is_refused_before_the_import(tmp_path, capsys):
    sys.modules.pop("this", None)
    path = saved_with(tmp_path, classifier("x"), "type", "this:x")
    with pytest.raises(LoadError, match="'this:x'"):
        pg.load(path)
    assert "this" not in sys.modules
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("field", ["type", "parser"])
def test_no_reference_outside_promptgraph_is_imported_without_trust(tmp_path, monkeypatch, field):
    marker = tmp_path / "imported"
    (tmp_path / "sneaky.py").write_text(f"open({str(marker)!r}, 'w').close()\ndef thing(text): return text\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = saved_with(tmp_path, Program.of(Classify(LABELS, parser=shout), name="c"), field, "sneaky:thing")
    with pytest.raises(LoadError, match="'sneaky:thing'"):
        pg.load(path)
    assert not marker.exists() and "sneaky" not in sys.modules


def test_the_refusal_says_how_to_opt_in(tmp_path):
    path = Program.of(Classify(LABELS, parser=shout), name="c").save(tmp_path / "p.json")
    with pytest.raises(LoadError) as refused:
        pg.load(path)
    message = str(refused.value)
    assert "\n" not in message
    assert str(path) in message and "'c'" in message and "parser" in message
    assert "trust_code=True" in message and "--trust-code" in message and "load_values" in message


def test_promptgraph_s_own_parser_loads_without_trust(tmp_path):
    program = Program.of(Classify(LABELS, parser=pg.modules.read_label_tag), name="c")
    loaded = pg.load(program.save(tmp_path / "p.json"))
    assert loaded("q", lm=pg.ScriptedLM(replies=["<label>insincere</label>"])).label == "insincere"


def test_with_trust_a_name_that_is_not_a_module_is_still_refused(tmp_path):
    path = saved_with(tmp_path, classifier("x"), "type", "os:getcwd")
    with pytest.raises(LoadError, match="not a promptgraph Module"):
        pg.load(path, trust_code=True)


def test_with_trust_a_parser_that_is_not_a_function_is_refused(tmp_path):
    path = saved_with(tmp_path, Program.of(Classify(LABELS, parser=shout), name="c"), "parser", "os:sep")
    with pytest.raises(LoadError, match="not a function"):
        pg.load(path, trust_code=True)


def test_trust_reaches_a_nested_program(tmp_path):
    inner = Program.of(pg.Function(shout, inputs=("text",), outputs=("loud",)), name="f")
    outer = Program(inputs=("text",)).add("stage", inner)
    path = outer.save(tmp_path / "p.json")
    with pytest.raises(LoadError, match="tests.test_saving:shout"):
        pg.load(path)
    assert pg.load(path, trust_code=True)("verdict: Yes", lm=pg.ScriptedLM()).value == "yes"


def test_a_directory_given_as_a_program_is_a_load_error(tmp_path):
    with pytest.raises(LoadError, match="is a directory"):
        pg.load(tmp_path)


def test_a_file_that_is_not_utf8_is_a_load_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b'{"format": "\xff\xfe"}')
    with pytest.raises(LoadError, match="not UTF-8"):
        pg.load(path)


def test_a_save_that_fails_midway_leaves_the_saved_program_and_no_temporary_file(tmp_path):
    target = tmp_path / "program.json"
    program = classifier("Label the question.")
    program.save(target)
    saved = target.read_text(encoding="utf-8")
    next(iter(program.parameters())).value = "x" * 50_000 + "\ud800"  # cannot be written as UTF-8
    with pytest.raises(UnicodeEncodeError):
        program.save(target)
    assert target.read_text(encoding="utf-8") == saved
    assert [path.name for path in tmp_path.iterdir()] == ["program.json"]


def compile_with_meta(meta):
    program = classifier("")
    program.meta = dict(meta)
    return pg.compile(
        program,
        trainset=questions(40),
        lm=forward_lm(),
        optimizer=TextualGradientDescent(lm=optimizer_lm()),
        iterations=1,
        samples_per_label=6,
        val_per_label=5,
        progress=False,
    ).program


def test_the_users_own_meta_survives_compile_save_and_load(tmp_path):
    compiled = compile_with_meta({"owner": "the data team", "ticket": 42})
    loaded = pg.load(compiled.save(tmp_path / "p.json"))
    assert {key: loaded.meta[key] for key in ("owner", "ticket")} == {"owner": "the data team", "ticket": 42}
    assert "metrics" in loaded.meta  # beside compile's own record


def test_loading_values_keeps_the_meta_keys_the_file_does_not_have(tmp_path, compiled):
    target = classifier("")
    target.meta = {"owner": "the data team"}
    path = compiled.save(tmp_path / "p.json")
    target.load_values(path)
    assert target.meta == {"owner": "the data team"} | json.loads(path.read_text())["meta"]
