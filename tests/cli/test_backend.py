import argparse

import pytest

from promptgraph.cli import backend
from promptgraph.cli.backend import LOCAL_NOTE, add_backend_options, choose
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
