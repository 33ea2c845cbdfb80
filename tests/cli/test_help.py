"""Every command explains itself: a description, an example, each option's default, and a suggestion for a typo."""

import argparse

import pytest

from promptgraph.cli import main, parser


def commands(top=None, name="promptgraph"):
    """(name, parser) of every subcommand, nested ones (`local setup`) too."""
    top = top or parser()
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                yield f"{name} {word}", sub
                yield from commands(sub, f"{name} {word}")


COMMANDS = dict(commands())


def options(command):
    return [
        action
        for action in command._actions
        if action.option_strings and not isinstance(action, (argparse._HelpAction, argparse._VersionAction))
    ]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_a_description_and_an_example(name):
    command = COMMANDS[name]
    assert command.description
    assert f"  {name}" in command.epilog  # a command line to copy
    assert "example" in command.format_help()


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_explained_and_shows_its_default(name):
    command = COMMANDS[name]
    for action in options(command):
        formatter = command._get_formatter()
        formatter.add_argument(action)
        shown = " ".join(formatter.format_help().split())
        assert action.help, f"{name} {action.option_strings[0]} has no help"
        if action.default not in (None, False, "", []):
            assert "default" in shown.lower(), f"{name}: {shown}"


def test_a_default_is_shown_by_the_help_itself(capsys):
    with pytest.raises(SystemExit):
        main(["compile", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "with --batch: how often to ask whether a batch is done (default: 30.0)" in shown
    assert "training examples sampled per label and iteration (default: 100)" in shown


@pytest.mark.parametrize(
    ("argv", "meant", "help_of"),
    [
        (["compile", "data.csv", "--iteratons", "3"], "did you mean --iterations?", "promptgraph compile"),
        (["compile", "data.csv", "--samples-per-lable=3"], "did you mean --samples-per-label?", "promptgraph compile"),
        (["ask", "hi", "--max-tokns", "3"], "did you mean --max-tokens?", "promptgraph ask"),
        (["local", "setup", "--jbos", "2"], "did you mean --jobs?", "promptgraph local setup"),
    ],
)
def test_a_mistyped_option_suggests_the_one_meant(argv, meant, help_of, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    error = capsys.readouterr().err
    assert exit_.value.code == 2
    assert meant in error and f"(see {help_of} --help)" in error
    assert len(error.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["compile", "data.csv", "--optimizer", "paretto"], "did you mean 'pareto'?"),
        (["compil", "data.csv"], "did you mean 'compile'?"),
        (["local", "statsu"], "did you mean 'status'?"),
    ],
)
def test_a_mistyped_choice_or_command_suggests_the_one_meant(argv, meant, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    assert meant in capsys.readouterr().err


def test_an_option_like_none_is_not_guessed_at(capsys):
    with pytest.raises(SystemExit):
        main(["compile", "data.csv", "--zzzzzz"])
    error = capsys.readouterr().err
    assert "unrecognized arguments: --zzzzzz" in error and "did you mean" not in error
