import csv
import json

import pytest

import promptgraph as pg
from promptgraph.cli import main
from promptgraph.testing import MessagesServer
from tests.scenario import FORMAT, KEY_PHRASE, forward_reply


@pytest.fixture
def program(tmp_path):
    return pg.Program.of(pg.Classify(["sincere", "insincere"], system=f"{KEY_PHRASE} {FORMAT}"), name="c").save(
        tmp_path / "p.json"
    )


@pytest.fixture
def texts(tmp_path):
    path = tmp_path / "texts.csv"
    rows = [(f"r{i}", f"Why are all group{i} people bad?" if i % 2 else f"How do I knit scarf {i}?") for i in range(30)]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("id", "question"), *rows])
    return path


def predict(program, texts, output, server, *extra):
    arguments = [
        "predict",
        str(program),
        str(texts),
        "--text-column",
        "question",
        "--id-column",
        "id",
        "--output",
        str(output),
    ]
    return main([*arguments, "--base-url", server.base_url, "--no-cache", *extra])


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_an_interrupted_predict_resumes_after_the_rows_already_written(program, texts, tmp_path, suffix):
    output = tmp_path / f"labels{suffix}"
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 0
        full = output.read_text()
        lines = full.splitlines(keepends=True)
        keep = 11 if suffix == ".csv" else 10  # the header and 10 rows, or 10 rows
        output.write_text("".join(lines[:keep]))
        before = len(server.seen)
        assert predict(program, texts, output, server) == 0
        assert len(server.seen) - before == 20  # only the rows not yet written were sent
    assert output.read_text() == full


def test_rows_come_out_in_input_order_with_their_labels(program, texts, tmp_path):
    output = tmp_path / "labels.jsonl"
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server, "--max-concurrency", "6") == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["id"] for row in rows] == [f"r{i}" for i in range(30)]
    assert [row["label"] for row in rows[:2]] == ["sincere", "insincere"]


def test_an_output_from_other_input_is_not_resumed_into(program, texts, tmp_path, capsys):
    output = tmp_path / "labels.csv"
    output.write_text("id,label,status\nother,sincere,ok\n")
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 2  # bad input
    assert "does not match the start of the input" in capsys.readouterr().err


def test_predict_with_batches_writes_the_same_rows_from_one_batch_and_keeps_its_id(program, texts, tmp_path):
    plain, batched = tmp_path / "plain.csv", tmp_path / "batched.csv"
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, plain, server) == 0
        assert predict(program, texts, batched, server, "--batch", "--poll-seconds", "0.01") == 0
    assert batched.read_text() == plain.read_text()
    assert [batch.size for batch in server.batches.values()] == [30]
    state = json.loads((tmp_path / "batched.csv.batches.json").read_text())
    assert list(state["batches"]) == ["msgbatch_000001"]
