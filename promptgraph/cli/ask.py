"""`promptgraph ask`: one request to a model, printed with its cost; a quick check of a key or a server."""

from __future__ import annotations

import argparse
import sys

from promptgraph.cli.arguments import positive_int, text
from promptgraph.cli.backend import add_backend_options, open_backend
from promptgraph.cli.options import effort_of, thinking_of
from promptgraph.lm import Ledger, Request, call


def add_command(commands: argparse._SubParsersAction) -> None:
    ask = commands.add_parser(
        "ask",
        help="send one request to a model and print the reply and its cost",
        description="Send one request to a model and print its reply, and on stderr the tokens and cost: "
        "a quick check of a key, a model or a server.",
        epilog="""examples:
  promptgraph ask "Is 'Why is the sky blue?' a sincere question?" --model claude-haiku-5-5
  promptgraph ask "Say hello" --base-url http://127.0.0.1:8080      # any Messages-API server""",
    )
    ask.add_argument("text", type=text, help="the user message")
    ask.add_argument("--system", default="", help="system prompt (default: none)")
    ask.add_argument("--max-tokens", type=positive_int, default=512, help="the longest reply to accept, in tokens")
    add_backend_options(ask, optimizer=False, one_request=True)
    ask.set_defaults(run=run_ask)


def run_ask(arguments: argparse.Namespace) -> int:
    ledger = Ledger()
    request = Request(
        messages=[("user", arguments.text)],
        system=arguments.system,
        max_tokens=arguments.max_tokens,
        temperature=arguments.temperature,
        effort=effort_of(arguments.effort),
        thinking=thinking_of(arguments.thinking),
        tag="ask",
    )
    with open_backend(arguments) as backend:
        response = call(backend.forward, request, ledger=ledger)
    print(response.text)
    cached = ", cached" if response.cached else ""
    print(f"\n[{response.model}, stop: {response.stop_reason}, {response.latency:.2f}s{cached}]", file=sys.stderr)
    print(ledger.table(), file=sys.stderr)
    return 0
