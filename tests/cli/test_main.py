import subprocess
import sys
from pathlib import Path

import pytest

from promptgraph.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_shows_the_second_pass_served_from_the_cache(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.count("(cached)") == 6
    assert "the scripted model saw 6 requests for 12 asked" in out


def test_ask_on_claude_without_a_key_says_which_variable_to_set(capsys):
    assert main(["ask", "hello", "--lm", "claude"]) == 1
    error = capsys.readouterr().err
    assert "ANTHROPIC_API_KEY" in error and "--base-url" in error


def test_an_unknown_subcommand_is_refused_by_the_parser():
    with pytest.raises(SystemExit) as exit:
        main(["frobnicate"])
    assert exit.value.code == 2


def test_the_command_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "promptgraph", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("promptgraph ")


def test_ci_runs_the_test_command_the_readme_gives():
    readme = (ROOT / "README.md").read_text().splitlines()
    command = readme[readme.index("# run the tests") + 1]
    assert command.startswith("python -m pytest")
    assert "# run the tests" in (ROOT / ".ci" / "run").read_text()


def test_a_file_system_error_mid_run_is_one_line_and_exit_1_not_a_traceback(monkeypatch, capsys):
    from promptgraph.cli import train

    def disk_full(arguments):
        raise OSError(28, "No space left on device", "runs/x/program.json")

    monkeypatch.setattr(train, "run_evaluate", disk_full)
    assert main(["evaluate", "program.json", "data.csv"]) == 1
    error = capsys.readouterr().err
    assert error.splitlines() == ["promptgraph: error: [Errno 28] No space left on device: 'runs/x/program.json'"]


def test_a_library_warning_reaches_stderr_with_log_level_warning_and_not_by_default(capsys):
    from promptgraph.testing import MessagesServer

    with MessagesServer(lambda request: "hi", refuses=("output_config.effort",)) as server:
        ask = ["ask", "hello", "--base-url", server.base_url, "--effort", "low", "--no-cache"]
        assert main(["--log-level", "warning", *ask]) == 0
        shown = capsys.readouterr().err
        assert main(ask) == 0  # the command's own summary says what failed; the library adds nothing
        hidden = capsys.readouterr().err
    assert "promptgraph: WARNING:" in shown and "refused output_config.effort" in shown
    assert "refused" not in hidden


def test_ask_sends_the_thinking_setting_it_is_given():
    from promptgraph.testing import MessagesServer

    with MessagesServer(lambda request: "hi") as server:
        assert main(["ask", "hello", "--base-url", server.base_url, "--thinking", "adaptive", "--no-cache"]) == 0
    assert server.seen[0].thinking == "adaptive"


def test_log_level_debug_shows_each_request_sent_and_leaves_the_logger_as_it_was(capsys):
    import logging

    from promptgraph.testing import MessagesServer

    before = (logging.getLogger("promptgraph").level, list(logging.getLogger("promptgraph").handlers))
    with MessagesServer(lambda request: "hi") as server:
        assert main(["--log-level", "debug", "ask", "hello", "--base-url", server.base_url, "--no-cache"]) == 0
    assert "sending a request: model=" in capsys.readouterr().err
    assert (logging.getLogger("promptgraph").level, list(logging.getLogger("promptgraph").handlers)) == before
