"""Checking the command line before anything runs: one-line errors, and a type for every kind of value.

argparse calls a `type=` function on each value given (and on string defaults) before
the command starts, so a number out of range or a path that cannot be written is refused
with exit code 2 before any file is written or any request is paid for.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import math
import os
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from promptgraph.budget import METRIC_CALL_LEVELS
from promptgraph.errors import PromptgraphError
from promptgraph.lm.base import MIN_THINKING_BUDGET


class UsageError(ValueError, PromptgraphError):
    """Options that cannot be used together or as given; the message names the option and what to change."""


class HelpFormatter(argparse.HelpFormatter):
    """--help that keeps a command's examples as written and names every option's default."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example"):  # an epilog of command lines: wrapping would break them
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if not action.option_strings or "default" in help_text.lower():
            return help_text
        if action.default in (None, False, "", [], argparse.SUPPRESS):  # nothing to say, or "(default: )"
            return help_text
        return f"{help_text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like every other error of promptgraph, and that
    suggests the option, choice or command meant when one is mistyped.

    argparse's own `suggest_on_error` (Python 3.14) covers choices and commands, not options, and
    CI runs 3.10: so the suggestions are made here, on every version.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None) -> argparse.Namespace:  # type: ignore[override]
        """The arguments, with `options_given`: the names (dests) of those the command line gave."""
        arguments, unknown = self.parse_known_args(args, namespace)
        if unknown:
            command = self.command_parser(arguments)
            command.error(f"unrecognized arguments: {' '.join(unknown)}{suggestion(unknown, command)}")
        arguments.options_given = self.given(args)
        return arguments

    def given(self, args: Sequence[str] | None) -> frozenset[str]:
        """The dests the command line sets, an option typed at its default value too (a resume must tell
        `--samples-per-label 100` from nothing): the line is parsed again by a copy of this parser whose every
        default is SUPPRESS, so argparse sets only what it reads."""
        quiet = copy.deepcopy(self)
        dests = set()
        for parser in _parsers(quiet):
            for action in parser._actions:
                action.default = argparse.SUPPRESS
                dests.add(action.dest)
        return frozenset(vars(quiet.parse_known_args(args)[0])) & dests  # less the parsers' set_defaults

    def command_parser(self, arguments: argparse.Namespace) -> argparse.ArgumentParser:
        """The parser of the (sub)command the arguments chose: it knows the options that were meant."""
        parser: argparse.ArgumentParser = self
        while True:
            chosen = next(
                (
                    action.choices[getattr(arguments, action.dest)]
                    for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction)
                    and getattr(arguments, action.dest, None) in action.choices
                ),
                None,
            )
            if chosen is None:
                return parser
            parser = chosen

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"promptgraph: error: {message}{choice_suggestion(message)} (see {self.prog} --help)\n")


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The parser and those of its subcommands, theirs too."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield from _parsers(command)


def suggestion(unknown: list[str], parser: argparse.ArgumentParser) -> str:
    """ "; did you mean --iterations?" for the first mistyped option that is close to one of the parser's."""
    options = list(parser._option_string_actions)
    for given in unknown:
        if given.startswith("-"):
            close = difflib.get_close_matches(given.split("=", 1)[0], options, n=1, cutoff=0.6)
            if close:
                return f"; did you mean {close[0]}?"
    return ""


INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


def choice_suggestion(message: str) -> str:
    """ "; did you mean 'pareto'?" for a mistyped choice or command, unless argparse said it already."""
    found = INVALID_CHOICE.search(message)
    if found is None or "maybe you meant" in message:
        return ""
    choices = [choice.strip().strip("'") for choice in found.group(2).split(",")]
    close = difflib.get_close_matches(found.group(1), choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def positive_int(text: str) -> int:
    number = _int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return number


def non_negative_int(text: str) -> int:
    number = _int(text)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return number


def call_budget(text: str) -> int | str:
    """A number of forward calls, or "light", "medium" or "heavy" (compile's max_metric_calls)."""
    if text in METRIC_CALL_LEVELS:
        return text
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be a number of calls (1 or more) or one of {', '.join(METRIC_CALL_LEVELS)}, not {text}"
        ) from None


def positive_number(text: str) -> float:
    number = _float(text)
    if not number > 0 or math.isinf(number):  # `not >` so that NaN is refused too
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text}")
    return number


def fraction(text: str) -> float:
    """A share or a rate: 0 to 1."""
    number = _float(text)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return number


def thinking(value: str) -> str | int:
    """--thinking: a budget of thinking tokens, or adaptive, disabled or none (send no thinking setting)."""
    if value in ("adaptive", "disabled", "none"):
        return value
    if not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be a number of tokens, adaptive, disabled or none, not {value!r}")
    budget = int(value)
    if budget < MIN_THINKING_BUDGET:
        raise argparse.ArgumentTypeError(
            f"a thinking budget must be at least {MIN_THINKING_BUDGET} tokens, not {value}"
        )
    return budget


def text(value: str) -> str:
    """A text to send to a model: an empty one would only be refused by the server, after a call."""
    if not value.strip():
        raise argparse.ArgumentTypeError("is empty; give the text to send")
    return value


def model_name(value: str) -> str:
    """A model's name: an empty one would only be refused by the server, after a call."""
    if not value.strip():
        raise argparse.ArgumentTypeError("is empty; give a model name")
    return value


def url(value: str) -> str:
    """A server's address: without http:// the client could not reach it, and would retry for a while first."""
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http:// or https:// URL, e.g. http://127.0.0.1:8080")
    return value


def new_file(value: str) -> str:
    """A file to write that must not replace one the user has."""
    if Path(value).exists() and not Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"{value} exists; choose another name, or move it away first")
    return output_file(value)


def output_file(value: str) -> str:
    """A file to write: its folder must exist, and it must not be a folder itself."""
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a directory; give a file name inside it")
    _writable_folder(path.parent, value)
    return value


def output_directory(value: str) -> str:
    """A directory to write into, made when needed: it must not be a file, nor sit inside one."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a file, not a directory; give a directory for the run")
    existing = next(parent for parent in (path, *path.parents) if parent.exists() or parent == Path(parent.anchor))
    if existing.exists() and not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: {existing} is a file, not a directory")
    _writable_folder(existing, value)
    return value


def same_file(first: str | Path, second: str | Path) -> bool:
    """Whether two paths name one file that exists (by another name or a link too)."""
    return Path(first).exists() and Path(second).exists() and os.path.samefile(first, second)


def _writable_folder(folder: Path, value: str) -> None:
    folder = folder if str(folder) else Path(".")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{value}: the folder {folder} is not writable")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
