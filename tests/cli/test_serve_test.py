"""`promptgraph serve-test`: the loopback Messages API server started from the shell."""

import os
import signal
import subprocess
from pathlib import Path

import pytest

from promptgraph.cli import main
from tests.child import promptgraph_command

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
