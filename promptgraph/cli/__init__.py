"""The `promptgraph` command.

argparse (standard library) is enough for a handful of subcommands and keeps the
runtime dependencies small. Each subcommand lives in its own file and adds itself here.
"""

from __future__ import annotations

import argparse
import os
import sys

import promptgraph
from promptgraph.cli import ask, demo, local, predict, synthesize, train
from promptgraph.compile import TrainingError
from promptgraph.lm import LMError, TooManyFailures
from promptgraph.lm.local import LocalServerError
from promptgraph.lm.local_setup import LocalSetupError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="promptgraph", description="Train the prompts of LLM programs.")
    top.add_argument("--version", action="version", version=f"promptgraph {promptgraph.__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    train.add_commands(commands)
    predict.add_command(commands)
    ask.add_command(commands)
    local.add_command(commands)
    demo.add_command(commands)
    synthesize.add_command(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except (
        LMError,
        TooManyFailures,
        LocalServerError,
        LocalSetupError,
        TrainingError,
        ValueError,
    ) as error:  # Data/LoadError: ValueErrors
        print(f"promptgraph: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        resume = (
            f"; carry on with: promptgraph compile --resume {arguments.out}" if arguments.command == "compile" else ""
        )
        print(f"promptgraph: interrupted{resume}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        # Leave now: calls still in flight would otherwise hold the exit until they time out.
        # Checkpoints and cache entries are already on disk, and any local server was stopped.
        os._exit(130)


if __name__ == "__main__":
    sys.exit(main())
