"""`promptgraph serve-test`: the loopback Messages API server started from the shell."""

import csv
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from promptgraph.cli import main
from tests.child import promptgraph_command
from tests.scenario import questions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def serving(tmp_path):
    """Start `promptgraph serve-test ARGS...` in a child; yields (child, base URL) once it says where it serves."""
    children = []

    def start(*arguments):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen(
            promptgraph_command("serve-test", *arguments),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(child)
        first = child.stdout.readline()
        assert first.startswith("serving the Messages API at http://127.0.0.1:"), first + child.stderr.read()
        return child, first.split(" at ", 1)[1].split()[0]

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=60)


def test_serve_test_answers_requests_until_interrupted(serving, capsys):
    child, url = serving("--reply", "Hello from the loopback server", "--latency", "0")
    assert main(["ask", "hi", "--base-url", url, "--model", "any"]) == 0
    assert capsys.readouterr().out.startswith("Hello from the loopback server")
    assert child.stdout.readline() == "ask any: 30 characters\n"
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=60) == 0


def test_serve_test_answers_with_the_function_it_is_given(serving, capsys):
    child, url = serving("--respond", f"{ROOT}/examples/scripted_models.py:respond")
    assert main(["ask", "Why are all cats mean? End with Label: <label>X</label>", "--base-url", url]) == 0
    assert "Label: <label>sincere</label>" in capsys.readouterr().out


def test_serve_test_serves_on_the_port_asked_for(serving):
    child, url = serving()  # any free port, then ask for that one again once it is free
    port = url.rsplit(":", 1)[1]
    child.send_signal(signal.SIGINT)
    child.wait(timeout=60)
    _, again = serving("--port", port)
    assert again == url


def test_serve_test_on_a_port_in_use_is_a_one_line_error(serving, capsys):
    _, url = serving()
    assert main(["serve-test", "--port", url.rsplit(":", 1)[1]]) == 2
    assert "cannot be served" in capsys.readouterr().err


def test_a_respond_that_is_not_a_function_of_a_file_is_refused(capsys):
    assert main(["serve-test", "--respond", "nothing.py:respond"]) == 2
    assert "--respond nothing.py:respond: there is no file nothing.py" in capsys.readouterr().err


def compile_against(url: str, data: Path, out: Path, *extra: str) -> dict:
    """`promptgraph compile` of the scenario's questions against the server at `url`; the saved program."""
    arguments = ["compile", str(data), "--text-column", "text", "--label-column", "label", "--id-column", "id"]
    arguments += ["--labels", "sincere,insincere", "--base-url", url, "--model", "scripted", "--optimizer-model"]
    arguments += ["scripted", "--iterations", "2", "--samples-per-label", "8", "--val-per-label", "5", "--no-cache"]
    assert main([*arguments, "--out", str(out), *extra]) == 0
    return json.loads((out / "program.json").read_text())


def test_compile_with_batches_against_the_examples_stand_ins_trains_as_without(serving, tmp_path):
    """The stand-ins answer by tag: a batched critic or rewrite call must reach them as one, not as forward."""
    data = tmp_path / "questions.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        writer.writerows([example.id, example.inputs["text"], example.label] for example in questions(40))
    _, url = serving("--respond", f"{ROOT}/examples/scripted_models.py:respond")
    plain = compile_against(url, data, tmp_path / "plain")
    batched = compile_against(url, data, tmp_path / "batched", "--batch", "--poll-seconds", "0.01")
    assert "Cue words: [group, people]" in plain["nodes"][0]["parameters"]["system"]["value"]  # it trained
    assert batched["nodes"] == plain["nodes"]
