"""program.load_values(path) takes a saved program's texts into one built in code: a file that does not match
the program is refused naming what differs, unless strict=False, which loads what the two share and says in one
warning what it left out."""

import logging

import pytest

import promptgraph as pg
from tests.scenario import FORMAT, LABELS


def two_nodes(system="saved"):
    program = pg.Program(inputs=("text",))
    program.add("extract", pg.Generate("text -> topic, tone", system=f"{system} extract"))
    program.add(
        "classify", pg.Classify(LABELS, inputs=("text", "tone"), system=f"{system} classify"), tone="extract.tone"
    )
    return program


def test_a_file_with_a_node_the_program_lacks_is_refused_naming_its_texts(tmp_path):
    path = two_nodes().save(tmp_path / "p.json")
    target = pg.Program.of(pg.Classify(LABELS, inputs=("text", "tone")), name="classify")
    with pytest.raises(
        pg.LoadError,
        match=r"the program has no extract\.demos, extract\.prefix, extract\.suffix, extract\.system \(in the file\)",
    ):
        target.load_values(path)


def test_a_refused_file_changes_nothing(tmp_path):
    path = two_nodes().save(tmp_path / "p.json")
    target = pg.Program.of(pg.Classify(LABELS, inputs=("text", "tone"), system="keep"), name="classify")
    with pytest.raises(pg.LoadError):
        target.load_values(path)
    assert target.values()["classify.system"] == "keep"


def test_a_file_without_a_node_the_program_has_is_refused_naming_its_texts(tmp_path):
    path = pg.Program.of(pg.Classify(LABELS, inputs=("text", "tone")), name="classify").save(tmp_path / "p.json")
    with pytest.raises(pg.LoadError, match=r"the file has no extract\.prefix, extract\.suffix, extract\.system"):
        two_nodes().load_values(path)


def test_the_refusal_is_one_line_saying_strict_false_loads_what_is_shared(tmp_path):
    path = two_nodes().save(tmp_path / "p.json")
    with pytest.raises(pg.LoadError) as refused:
        pg.Program.of(pg.Classify(LABELS, inputs=("text", "tone")), name="classify").load_values(path)
    assert "\n" not in str(refused.value) and "strict=False" in str(refused.value)


def test_a_classifier_with_other_labels_is_refused_naming_both(tmp_path):
    path = pg.Program.of(pg.Classify(LABELS, system=FORMAT), name="classify").save(tmp_path / "p.json")
    with pytest.raises(pg.LoadError, match="node 'classify' labels yes, no, the file's sincere, insincere"):
        pg.Program.of(pg.Classify(["yes", "no"]), name="classify").load_values(path)


def test_strict_false_loads_the_shared_values_and_warns_once_with_what_was_left_out(tmp_path, caplog):
    path = two_nodes().save(tmp_path / "p.json")
    target = pg.Program.of(pg.Classify(LABELS, inputs=("text", "tone")), name="classify")
    with caplog.at_level(logging.WARNING, logger="promptgraph"):
        target.load_values(path, strict=False)
    assert target.values()["classify.system"] == "saved classify"
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and "extract.system" in warnings[0]


def test_strict_false_keeps_the_programs_own_values_the_file_lacks(tmp_path):
    path = pg.Program.of(pg.Classify(LABELS, inputs=("text", "tone")), name="classify").save(tmp_path / "p.json")
    target = two_nodes("mine")
    target.load_values(path, strict=False)
    assert target.values()["extract.system"] == "mine extract"


def test_a_matching_file_loads_with_no_warning(tmp_path, caplog):
    path = two_nodes().save(tmp_path / "p.json")
    target = two_nodes("other")
    with caplog.at_level(logging.WARNING, logger="promptgraph"):
        target.load_values(path)
    assert target.values() == two_nodes().values() and caplog.records == []


def test_a_nested_classifiers_labels_are_compared_too(tmp_path):
    def nested(labels):
        return pg.Program(inputs=("text",)).add("stage", pg.Program.of(pg.Classify(labels), name="classify"))

    path = nested(LABELS).save(tmp_path / "p.json")
    with pytest.raises(pg.LoadError, match=r"node 'stage\.classify' labels a, b"):
        nested(["a", "b"]).load_values(path)
