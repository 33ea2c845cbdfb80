"""`promptgraph ask` offers only what one request can use."""

import pytest

from promptgraph.cli import main

MANY_REQUESTS = ("--batch", "--poll-seconds", "--max-concurrency", "--max-consecutive-failures")


def test_ask_offers_no_option_about_many_requests(capsys):
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    shown = capsys.readouterr().out
    assert "--model" in shown and "--system" in shown
    assert not [option for option in MANY_REQUESTS if option in shown]


@pytest.mark.parametrize("option", ["--batch", "--max-concurrency=4"])
def test_ask_refuses_an_option_about_many_requests(option, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["ask", "hi", option])
    assert exit_.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_ask_describes_its_settings_as_the_one_requests(capsys):
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "program" not in shown and "module" not in shown


def test_ask_for_a_claude_model_with_no_key_fails_as_compile_with_lm_claude_does(tmp_path, capsys):
    """Not an answer from the local model under the name asked for."""
    assert main(["ask", "hi", "--model", "claude-haiku-5-5"]) == 1
    asked = capsys.readouterr().err
    data = tmp_path / "d.csv"
    data.write_text("text,label\napple,x\nbread,y\ncherry,x\ndough,y\n")  # words: the baseline fits, silently
    assert main(["compile", str(data), "--labels", "x,y", "--lm", "claude", "--out", str(tmp_path / "run")]) == 1
    assert asked == capsys.readouterr().err
    assert asked.startswith("promptgraph: error: No Anthropic API key found") and asked.count("\n") == 1
