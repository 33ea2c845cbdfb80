"""The `promptgraph` command.

argparse (standard library) is enough for a handful of subcommands and keeps the
runtime dependencies small. Each subcommand lives in its own file and adds itself here.

Exit codes: 0 done; 1 the run failed (a model, a server, training); 2 the input was
refused before anything was written or sent (every ValueError of promptgraph: DataError,
LoadError, GraphError, UsageError, and argparse's own errors); 130 interrupted; 141 the
reader of standard output went away (`promptgraph predict ... | head`), as for any Unix tool.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

import promptgraph
from promptgraph import checkpoint
from promptgraph.cli import ask, demo, local, predict, serve_test, synthesize, train
from promptgraph.cli.arguments import Parser
from promptgraph.compile import TrainingError
from promptgraph.lm import LMError, TooManyFailures
from promptgraph.lm.local import LocalServerError
from promptgraph.lm.local_setup import LocalSetupError
from promptgraph.synthetic import SynthesisError


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="promptgraph", description="Train the prompts of LLM programs.")
    top.add_argument("--version", action="version", version=f"promptgraph {promptgraph.__version__}")
    top.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="error",
        help="what the library logs to stderr besides the command's own summary: error (the default) only what "
        "stops a run; warning adds each request given up and each field a server refused; info one line per "
        "iteration and every retry; debug every request sent and every cache hit",
    )
    commands = top.add_subparsers(dest="command", required=True)
    train.add_commands(commands)
    predict.add_command(commands)
    ask.add_command(commands)
    local.add_command(commands)
    demo.add_command(commands)
    synthesize.add_command(commands)
    serve_test.add_command(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    with _logging_to_stderr(arguments.log_level):
        return _run(arguments)


@contextlib.contextmanager
def _logging_to_stderr(level: str):
    """The library's log lines on stderr while the command runs (the library itself configures no logging)."""
    logger = logging.getLogger("promptgraph")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("promptgraph: %(levelname)s: %(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    try:
        yield
    finally:  # main() may run again in the same process (tests, a notebook): leave the logger as it was
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _run(arguments: argparse.Namespace) -> int:
    try:
        return arguments.run(arguments)
    except BrokenPipeError:
        # Whatever is still buffered for stdout has nowhere to go; without this, Python
        # reports the same broken pipe again as it exits.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe
    except ValueError as error:  # bad input: refused before anything was written or sent
        print(f"promptgraph: error: {error}", file=sys.stderr)
        return 2
    except (LMError, TooManyFailures, LocalServerError, LocalSetupError, TrainingError, SynthesisError) as error:
        print(f"promptgraph: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the disk filled up, a file vanished mid-run: say which, without a traceback
        print(f"promptgraph: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"promptgraph: interrupted{_how_to_go_on(arguments)}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        # Leave now: calls still in flight would otherwise hold the exit until they time out.
        # Checkpoints and cache entries are already on disk, and any local server was stopped.
        os._exit(130)


def _how_to_go_on(arguments: argparse.Namespace) -> str:
    """For a compile: how to resume it, or that there is nothing to resume yet."""
    if arguments.command != "compile":
        return ""
    resume = f"promptgraph compile --resume {arguments.out}"
    return checkpoint.how_to_go_on(Path(arguments.out), resume=resume, again="the same command")


if __name__ == "__main__":
    sys.exit(main())
