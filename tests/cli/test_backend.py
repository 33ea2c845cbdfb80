import argparse
import json

import pytest

from promptgraph.cli import backend, parser
from promptgraph.cli.backend import LOCAL_NOTE, add_backend_options, choose
from promptgraph.cli.train import remember_arguments
from promptgraph.lm import AnthropicLM


def arguments(*argv):
    parser = argparse.ArgumentParser()
    add_backend_options(parser, optimizer=True)
    return parser.parse_args(argv)


def test_with_no_key_and_no_choice_the_local_backend_is_used_and_said(capsys):
    assert choose(arguments()) == "local"
    assert capsys.readouterr().err.strip() == LOCAL_NOTE


def test_a_key_in_the_environment_means_claude(monkeypatch, capsys):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert choose(arguments()) == "claude"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv, expected",
    [(["--lm", "claude"], "claude"), (["--lm", "local"], "local"), (["--base-url", "http://127.0.0.1:9"], "server")],
)
def test_a_named_backend_wins(argv, expected, capsys):
    assert choose(arguments(*argv)) == expected
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv", [["--model", "claude-haiku-5-5"], ["--optimizer-model", "claude-opus-5-5"]])
def test_a_claude_model_named_with_no_key_means_claude_not_the_local_model(argv, capsys):
    assert choose(arguments(*argv)) == "claude"  # which then fails on the missing key, as --lm claude does
    assert capsys.readouterr().err == ""


def test_another_model_named_with_no_key_still_means_the_local_backend(capsys):
    assert choose(arguments("--model", "smollm2")) == "local"
    assert capsys.readouterr().err.strip() == LOCAL_NOTE


def test_a_named_local_backend_wins_over_a_claude_model_named(capsys):
    assert choose(arguments("--lm", "local", "--model", "claude-haiku-5-5")) == "local"


def test_the_environment_can_name_the_backend(monkeypatch):
    monkeypatch.setenv("PROMPTGRAPH_LM", "claude")
    assert choose(arguments()) == "claude"


def test_the_local_backend_stops_after_the_consecutive_failures_asked_for(monkeypatch):
    class Server:  # stands in for llama-server: only the options its LM is made with matter here
        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            pass

        def lm(self, **options):
            return AnthropicLM(base_url="http://127.0.0.1:9", api_key="local", **options)

    monkeypatch.setattr(backend, "find_local", lambda: "built")
    monkeypatch.setattr(backend, "LocalServer", Server)
    with backend.open_backend(arguments("--lm", "local", "--no-cache", "--max-consecutive-failures", "3")) as opened:
        assert opened.forward.breaker.limit == 3


def test_a_model_named_on_the_command_line_is_remembered_as_a_setting_and_nothing_more(tmp_path):
    """command.json (shown as the report's settings) keeps the model, not how it was chosen."""
    out = tmp_path / "run"
    remember_arguments(parser().parse_args(["compile", "d.csv", "--model", "claude-haiku-5-5", "--out", str(out)]), out)
    saved = json.loads((out / "command.json").read_text())
    assert saved["model"] == "claude-haiku-5-5" and "models_named" not in saved
