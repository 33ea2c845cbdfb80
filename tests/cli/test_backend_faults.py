"""A backend that cannot serve the run ends it early, with one message: pre-flight checks and the circuit breaker."""

import csv
import socket

import pytest

import promptgraph as pg
from promptgraph.cli import main
from promptgraph.testing import MessagesServer
from tests.scenario import questions


@pytest.fixture
def server():
    with MessagesServer(lambda request: "Label: <label>sincere</label>") as running:
        yield running


@pytest.fixture
def program(tmp_path):
    return str(pg.Program.of(pg.Classify(["sincere", "insincere"]), name="c").save(tmp_path / "program.json"))


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "questions.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        for example in questions(40):
            writer.writerow([example.id, example.inputs["text"], example.label])
    return str(path)


def evaluate(program, data, *backend):
    return main(["evaluate", program, data, *backend])


def test_a_server_that_always_answers_429_ends_the_run_with_one_message_after_few_requests(
    server, program, data, capsys
):
    server.fail_always("429")
    backend = ["--base-url", server.base_url, "--max-consecutive-failures", "3", "--max-concurrency", "2"]
    assert evaluate(program, data, *backend) == 1
    error = capsys.readouterr().err
    assert error.count("3 requests in a row failed") == 1 and "--max-consecutive-failures" in error
    # at most 3 + 1 failed attempts (one more was in flight) of 1 + 4 SDK retries each
    assert server.probes["429"] == 1 and len(server.seen) <= (3 + 1) * 5


def test_claude_with_no_key_fails_before_any_call(program, data, capsys):
    assert evaluate(program, data, "--lm", "claude") == 1
    captured = capsys.readouterr()
    assert "ANTHROPIC_API_KEY" in captured.err
    assert "accuracy" not in captured.out


def test_a_base_url_where_nothing_listens_fails_at_once_saying_what_to_check(program, data, capsys):
    with socket.socket() as probe:  # a port that was free a moment ago, and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert evaluate(program, data, "--base-url", f"http://127.0.0.1:{port}") == 1
    error = capsys.readouterr().err
    assert f"could not reach http://127.0.0.1:{port}" in error and "--base-url" in error


@pytest.mark.parametrize("fault", ["401", "400", "429_no_retry"])
def test_a_server_that_refuses_the_first_request_for_good_fails_after_that_one_request(
    server, program, data, fault, capsys
):
    server.fail_always(fault)
    assert evaluate(program, data, "--base-url", server.base_url) == 1
    assert fault[:3] in capsys.readouterr().err
    assert server.probes[fault] == 1 and not server.seen


def test_the_probe_is_sent_even_when_every_answer_is_cached(server, program, data, capsys):
    assert evaluate(program, data, "--base-url", server.base_url) == 0
    server.fail_always("401")
    assert evaluate(program, data, "--base-url", server.base_url) == 1
    assert "401" in capsys.readouterr().err
    assert server.probes == {"ok": 1, "401": 1}


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_max_consecutive_failures_below_one_is_refused_before_anything_runs(server, program, data, value, capsys):
    with pytest.raises(SystemExit) as exited:
        evaluate(program, data, "--base-url", server.base_url, "--max-consecutive-failures", value)
    assert exited.value.code == 2 and "--max-consecutive-failures" in capsys.readouterr().err
    assert not server.probes and not server.seen


def test_a_compile_that_fails_its_pre_flight_leaves_no_run_directory(data, tmp_path, capsys):
    out = tmp_path / "run"
    arguments = ["compile", data, "--lm", "claude", "--labels", "sincere,insincere", "--out", str(out)]
    assert main(arguments) == 1
    assert "ANTHROPIC_API_KEY" in capsys.readouterr().err
    assert not out.exists()


def test_a_compile_that_fails_its_pre_flight_leaves_an_existing_run_directory_as_it_was(data, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    arguments = ["compile", data, "--lm", "claude", "--labels", "sincere,insincere", "--out", str(out)]
    assert main(arguments) == 1
    assert sorted(path.name for path in out.iterdir()) == ["notes.txt"]
