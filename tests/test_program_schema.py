"""Every field of a program.json is checked before anything is built; each error names the file, node and field."""

import json

import pytest

import promptgraph as pg
from promptgraph import Classify, Function, LoadError, Program, Prompt
from tests.scenario import LABELS, classifier


def two_nodes() -> Program:
    program = Program(inputs=("text",))
    program.add("draft", Prompt(inputs=("text",), outputs=("draft",)))
    program.add("judge", Classify(LABELS, input="draft"), draft="draft.draft")
    return program


def nested() -> Program:
    return Program(inputs=("text",)).add("stage", classifier("x"))


def config(data, node=0):
    return data["nodes"][node]["config"]


def set_in(target, key, value):
    target[key] = value


CASES = {
    "negative max_tokens": (
        classifier,
        lambda d: set_in(config(d), "max_tokens", -5),
        "'classify'",
        "config.max_tokens",
    ),
    "zero max_tokens": (classifier, lambda d: set_in(config(d), "max_tokens", 0), "'classify'", "config.max_tokens"),
    "max_tokens as text": (
        classifier,
        lambda d: set_in(config(d), "max_tokens", "400"),
        "'classify'",
        "config.max_tokens",
    ),
    "max_tokens as true": (
        classifier,
        lambda d: set_in(config(d), "max_tokens", True),
        "'classify'",
        "config.max_tokens",
    ),
    "negative max_input_chars": (
        classifier,
        lambda d: set_in(config(d), "max_input_chars", -1),
        "'classify'",
        "config.max_input_chars",
    ),
    "labels that are numbers": (
        classifier,
        lambda d: set_in(config(d), "labels", [1, 2]),
        "'classify'",
        "config.labels",
    ),
    "no labels": (classifier, lambda d: set_in(config(d), "labels", []), "'classify'", "config.labels"),
    "a duplicated label": (
        classifier,
        lambda d: set_in(config(d), "labels", ["a", "a"]),
        "'classify'",
        "config.labels",
    ),
    "a blank label": (classifier, lambda d: set_in(config(d), "labels", [" ", "a"]), "'classify'", "config.labels"),
    "a config that is not an object": (
        classifier,
        lambda d: set_in(d["nodes"][0], "config", "max_tokens=5"),
        "'classify'",
        "'config'",
    ),
    "an unknown config key": (classifier, lambda d: set_in(config(d), "shell", "rm"), "'classify'", "'shell'"),
    "a description that is not text": (
        classifier,
        lambda d: set_in(config(d), "description", 5),
        "'classify'",
        "config.description",
    ),
    "wiring to an unknown node": (
        two_nodes,
        lambda d: set_in(d["nodes"][1]["wiring"], "draft", "ghost.draft"),
        "'judge'",
        "'wiring'",
    ),
    "wiring to an unknown output": (
        two_nodes,
        lambda d: set_in(d["nodes"][1]["wiring"], "draft", "draft.nothing"),
        "'judge'",
        "'wiring'",
    ),
    "wiring that is not a name": (
        two_nodes,
        lambda d: set_in(d["nodes"][1]["wiring"], "draft", 5),
        "'judge'",
        "'wiring'",
    ),
    "an output that is no node's": (two_nodes, lambda d: set_in(d, "output", "judge.nope"), "", "'output'"),
    "no program inputs": (classifier, lambda d: set_in(d, "inputs", []), "", "'inputs'"),
    "no nodes": (classifier, lambda d: set_in(d, "nodes", []), "", "'nodes'"),
    "a node name that is not an identifier": (
        classifier,
        lambda d: set_in(d["nodes"][0], "name", "1 x"),
        "node 1",
        "'name'",
    ),
    "a node named twice": (two_nodes, lambda d: set_in(d["nodes"][1], "name", "draft"), "'draft'", "named twice"),
    "an unknown node field": (classifier, lambda d: set_in(d["nodes"][0], "hook", "x"), "'classify'", "'hook'"),
    "a history of numbers": (
        classifier,
        lambda d: set_in(d["nodes"][0]["parameters"]["system"], "history", [1, 2]),
        "'classify'",
        "'history'",
    ),
    "a trainable flag that is text": (
        classifier,
        lambda d: set_in(d["nodes"][0]["parameters"]["system"], "trainable", "yes"),
        "'classify'",
        "'trainable'",
    ),
    "function inputs that are not a list": (
        lambda: Program.of(Function(str, inputs=("text",), outputs=("out",)), name="f"),
        lambda d: set_in(config(d), "inputs", "text"),
        "'f'",
        "config.inputs",
    ),
    "a bad field inside a nested program": (
        nested,
        lambda d: set_in(config(d)["graph"]["nodes"][0]["config"], "max_tokens", -1),
        "'stage', in its graph: node 'classify'",
        "config.max_tokens",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_field_is_refused_in_one_line_naming_the_file_node_and_field(tmp_path, case):
    build, corrupt, node, field = CASES[case]
    path = tmp_path / "p.json"
    data = json.loads(build().save(path).read_text())
    corrupt(data)
    path.write_text(json.dumps(data))
    with pytest.raises(LoadError) as refused:
        pg.load(path, trust_code=True)  # trust changes nothing: the fields are checked all the same
    message = str(refused.value)
    assert message.startswith(f"{path}: ") and node in message and field in message and "\n" not in message


def test_json_nested_100_000_deep_is_a_load_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LoadError, match="nested too deeply"):
        pg.load(path)


def test_programs_nested_past_the_limit_are_refused(tmp_path):
    program = classifier("x")
    for _ in range(20):
        program = Program(inputs=("text",)).add("stage", program)
    with pytest.raises(LoadError, match="nested more than 16 deep"):
        pg.load(program.save(tmp_path / "p.json"))


def test_a_bad_field_leaves_a_program_it_was_loaded_into_unchanged(tmp_path):
    path = classifier("new").save(tmp_path / "p.json")
    data = json.loads(path.read_text())
    data["nodes"][0]["parameters"]["suffix"]["history"] = [None]
    path.write_text(json.dumps(data))
    target = classifier("keep")
    with pytest.raises(LoadError, match="parameter 'suffix'.*'history'"):
        target.load_values(path)
    assert target.values()["classify.system"] == "keep"
