"""The `promptgraph` command.

argparse (standard library) is enough for a handful of subcommands and keeps the
runtime dependencies small. Each subcommand lives in its own file and adds itself here.
"""

from __future__ import annotations

import argparse
import sys

import promptgraph
from promptgraph.cli import ask, demo, local, train
from promptgraph.lm import LMError
from promptgraph.lm.local import LocalServerError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="promptgraph", description="Train the prompts of LLM programs.")
    top.add_argument("--version", action="version", version=f"promptgraph {promptgraph.__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    train.add_commands(commands)
    ask.add_command(commands)
    local.add_command(commands)
    demo.add_command(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except (LMError, LocalServerError, ValueError) as error:  # DataError and LoadError are ValueErrors
        print(f"promptgraph: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
