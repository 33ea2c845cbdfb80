"""`promptgraph local setup` and `local status`: the files of the local backend."""

from __future__ import annotations

import argparse
import sys

from promptgraph.cli.arguments import positive_int
from promptgraph.lm.local_setup import LocalSetupError, find_local, local_dir, setup


def add_command(commands: argparse._SubParsersAction) -> None:
    local = commands.add_parser("local", help="the local backend: a small model on llama-server, no key needed")
    actions = local.add_subparsers(dest="action", required=True)
    build = actions.add_parser("setup", help="build llama-server once (about 7 minutes) and fetch SmolLM2-135M")
    build.add_argument("--jobs", type=positive_int, help="parallel compile jobs (default: the number of cores)")
    build.set_defaults(run=run_setup)
    status = actions.add_parser("status", help="say whether the local backend is ready, and where its files are")
    status.set_defaults(run=run_status)


def run_setup(arguments: argparse.Namespace) -> int:
    try:
        setup(jobs=arguments.jobs, say=lambda line: print(line, file=sys.stderr))
    except LocalSetupError as error:
        print(f"promptgraph: local setup failed: {error}", file=sys.stderr)
        return 1
    return 0


def run_status(arguments: argparse.Namespace) -> int:
    files = find_local()
    if files is None:
        print(f"not set up (looked in {local_dir()}); run: promptgraph local setup")
        return 1
    print(f"ready\nserver: {files.server}\nmodel:  {files.model}")
    return 0
