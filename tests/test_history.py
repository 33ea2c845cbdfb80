"""What compile records per iteration: the texts each step started from, and what every module said."""

import json

import promptgraph as pg
from promptgraph import checkpoint
from promptgraph.history import IterationRecord
from tests.scenario import classifier, forward_lm, pipeline_run, questions, undoing_run


def test_a_step_after_an_undone_one_records_that_it_started_from_the_best():
    result = undoing_run()

    assert [record.kept for record in result.history] == [True, True, False, False]
    assert [record.started_from for record in result.history] == [None, 0, 1, 1]


def test_the_iteration_a_step_started_from_survives_the_checkpoint(tmp_path):
    undoing_run(run_dir=tmp_path)

    saved = checkpoint.read(tmp_path).history
    assert [IterationRecord.from_dict(record).started_from for record in saved] == [None, 0, 1, 1]


def test_the_checkpoint_keeps_what_every_module_said_for_each_training_sample(tmp_path):
    result = pipeline_run(run_dir=tmp_path)

    saved = json.loads((tmp_path / checkpoint.FILE).read_text())["history"][1]["sample_outputs"]
    first = result.history[1].samples[0]
    assert saved[0]["example"] == first.example.id
    assert saved[0]["nodes"]["note"] == {"status": "ok", "outputs": {"note": first.nodes["note"].outputs["note"]}}
    assert list(saved[0]["nodes"]) == ["note", "summarise", "classify"]


def test_a_saved_programs_history_leaves_the_sample_outputs_out():
    result = undoing_run()

    assert all("sample_outputs" not in record for record in result.program.meta["history"])


def test_why_a_step_took_no_training_minibatch_survives_the_checkpoint(tmp_path):
    pg.compile(classifier(), trainset=questions(40), lm=forward_lm(), optimizer=pg.KNNDemos(), iterations=2,
               samples_per_label=8, val_per_label=5, progress=False, run_dir=tmp_path)  # fmt: skip

    saved = [IterationRecord.from_dict(record) for record in checkpoint.read(tmp_path).history]
    assert saved[0].no_minibatch is None and "labels" in saved[1].no_minibatch
