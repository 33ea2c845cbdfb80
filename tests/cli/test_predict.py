import csv
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

import promptgraph as pg
from promptgraph.cli import main
from promptgraph.testing import MessagesServer
from tests.child import promptgraph_command
from tests.scenario import FORMAT, KEY_PHRASE, forward_reply
from tests.status_server import StatusServer

ROOT = Path(__file__).resolve().parents[2]


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
    output, other = tmp_path / "labels.csv", tmp_path / "other.csv"
    other.write_text("id,question\nother,How do I knit?\n")
    with MessagesServer(forward_reply) as server:
        assert predict(program, other, output, server) == 0
        before = output.read_bytes()
        assert predict(program, texts, output, server) == 2  # bad input
    assert "does not match the start of the input" in capsys.readouterr().err
    assert output.read_bytes() == before


def test_predict_with_batches_writes_the_same_rows_from_one_batch_and_keeps_its_id(program, texts, tmp_path):
    plain, batched = tmp_path / "plain.csv", tmp_path / "batched.csv"
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, plain, server) == 0
        assert predict(program, texts, batched, server, "--batch", "--poll-seconds", "0.01") == 0
    assert batched.read_text() == plain.read_text()
    assert [batch.size for batch in server.batches.values()] == [30]
    state = json.loads((tmp_path / "batched.csv.batches.json").read_text())
    assert list(state["batches"]) == ["msgbatch_000001"]


# --output is checked before anything is cut or written


@pytest.mark.parametrize("how", ["same path", "hard link"])
def test_the_input_file_is_refused_as_output_and_left_whole(program, tmp_path, capsys, how):
    texts = tmp_path / "texts.csv"
    texts.write_text("id,question\nr1,How do I knit?\nr2,Why are all cats mean?")  # no line end after the last row
    before = texts.read_bytes()
    output = texts if how == "same path" else tmp_path / "link.csv"
    if how == "hard link":
        os.link(texts, output)
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 2
        assert server.seen == []
    assert "is the input file" in capsys.readouterr().err
    assert texts.read_bytes() == before


def test_a_jsonl_we_did_not_write_is_refused_and_left_whole(program, texts, tmp_path, capsys):
    output = tmp_path / "notes.jsonl"
    output.write_text('{"id": "note", "text": "' + "x" * 70_000 + '"}')  # no line end in its last 64 KB
    before = output.read_bytes()
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 2
    err = capsys.readouterr().err
    assert "was not written by promptgraph predict" in err and len(err.splitlines()) == 1
    assert output.read_bytes() == before


def test_a_csv_we_did_not_write_is_refused_in_one_line_and_left_whole(program, texts, tmp_path, capsys):
    output = tmp_path / "people.csv"
    output.write_text("name,age\nada,36\n")
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 2
    err = capsys.readouterr().err
    assert "was not written by promptgraph predict" in err and len(err.splitlines()) == 1
    assert output.read_text() == "name,age\nada,36\n"


def test_a_csv_with_our_header_but_no_marker_is_refused(program, texts, tmp_path, capsys):
    output = tmp_path / "labels.csv"
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 0
        output.with_name("labels.csv.promptgraph.json").unlink()
        before = output.read_bytes()
        assert predict(program, texts, output, server) == 2
    assert "was not written by promptgraph predict" in capsys.readouterr().err
    assert output.read_bytes() == before


def test_an_output_written_for_another_program_is_refused(program, texts, tmp_path, capsys):
    output = tmp_path / "labels.csv"
    other = pg.Program.of(pg.Classify(["sincere", "insincere"], system=FORMAT), name="c").save(tmp_path / "o.json")
    with MessagesServer(forward_reply) as server:
        assert predict(other, texts, output, server) == 0
        before = output.read_bytes()
        assert predict(program, texts, output, server) == 2
    assert "holds the answers of another program" in capsys.readouterr().err
    assert output.read_bytes() == before


def test_a_half_written_last_row_longer_than_64_kb_is_cut_alone(program, texts, tmp_path):
    output = tmp_path / "labels.jsonl"
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 0
        full = output.read_text()
        ten = "".join(full.splitlines(keepends=True)[:10])
        output.write_text(ten + '{"id": "r10", "label": "' + "x" * 70_000)
        before = len(server.seen)
        assert predict(program, texts, output, server) == 0
        assert len(server.seen) - before == 20  # the 10 complete rows were kept
    assert output.read_text() == full


def test_a_csv_row_cut_inside_a_quoted_field_is_cut_alone(program, texts, tmp_path):
    output = tmp_path / "labels.csv"
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 0
        full = output.read_text()
        head = "".join(full.splitlines(keepends=True)[:11])
        with output.open("w", newline="") as handle:
            handle.write(head + 'r10,"a label\nthat goes on')
        assert predict(program, texts, output, server) == 0
    assert output.read_text() == full


# failed rows are answered again on resume


def test_resuming_answers_again_every_row_written_as_failed(program, texts, tmp_path):
    output, straight = tmp_path / "labels.csv", tmp_path / "straight.csv"
    with StatusServer(401) as dead:
        assert predict(program, texts, output, dead, "--max-failure-rate", "1") == 0
    assert output.read_text().count(",failed") == 30
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 0
        assert len(server.seen) == 30
        assert predict(program, texts, straight, server) == 0
    assert output.read_text() == straight.read_text()


def test_resuming_on_a_server_still_failing_keeps_one_row_per_id_and_exits_non_zero(program, texts, tmp_path, capsys):
    output = tmp_path / "labels.csv"
    with StatusServer(401) as dead:
        assert predict(program, texts, output, dead, "--max-failure-rate", "1") == 0
        before = output.read_text()
        assert predict(program, texts, output, dead) == 1
    assert output.read_text() == before
    assert not output.with_name("labels.csv.retrying").exists()
    assert "run the same command again to retry the failed rows" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_resuming_answers_only_the_failed_rows_and_the_rest_keeping_one_row_per_id(program, texts, tmp_path, suffix):
    output = tmp_path / f"labels{suffix}"
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 0
        full = output.read_text()
        lines = full.splitlines(keepends=True)
        start = 1 if suffix == ".csv" else 0
        kept = lines[: start + 10]
        for index in (start + 3, start + 7):  # two rows answered "failed" by an earlier run
            kept[index] = kept[index].replace("insincere", "").replace("sincere", "").replace("ok", "failed")
        output.write_text("".join(kept))
        before = len(server.seen)
        assert predict(program, texts, output, server) == 0
        assert len(server.seen) - before == 2 + 20
    assert output.read_text() == full
    assert not output.with_name(output.name + ".retrying").exists()


# one run at a time


def test_a_second_predict_on_the_same_output_is_refused_naming_the_one_running(program, texts, tmp_path):
    output = tmp_path / "labels.csv"
    started, go_on = threading.Event(), threading.Event()

    def respond(request):
        started.set()
        go_on.wait(timeout=120)
        return forward_reply(request)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with MessagesServer(respond) as server:
        command = promptgraph_command("predict", str(program), str(texts), "--text-column", "question")
        command += ["--id-column", "id", "--output", str(output), "--base-url", server.base_url, "--no-cache"]
        first = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        try:
            assert started.wait(timeout=120), "the first predict never sent a request"
            second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        finally:
            go_on.set()
            first.wait(timeout=120)
    assert second.returncode != 0
    assert f"is in use by pid {first.pid} on " in second.stderr
    assert "predict" in second.stderr.splitlines()[-1]
    assert first.returncode == 0
    ids = [row["id"] for row in csv.DictReader(output.open())]
    assert ids == [f"r{i}" for i in range(30)]
    assert not output.with_name("labels.csv.lock").exists()


def test_a_predict_refused_for_its_cache_dir_leaves_the_output_untouched(program, texts, tmp_path, capsys):
    output = tmp_path / "labels.csv"
    (tmp_path / "cache").write_text("not a directory")
    with MessagesServer(forward_reply) as server:
        assert predict(program, texts, output, server) == 0
        lines = output.read_text().splitlines(keepends=True)
        output.write_text("".join(lines[:5]) + lines[5][:4])  # a run killed mid-row
        before = output.read_bytes()
        assert predict(program, texts, output, server, "--cache-dir", str(tmp_path / "cache")) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert output.read_bytes() == before  # exit 2: refused before anything was written, a half row not cut
