"""The `promptgraph` command.

argparse (standard library) is enough for a handful of subcommands and keeps the
runtime dependencies small.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile

import promptgraph
from promptgraph.cli.train import add_commands
from promptgraph.data import DataError
from promptgraph.lm import (
    FORWARD_MODEL,
    AnthropicLM,
    Ledger,
    LMError,
    Request,
    ScriptedLM,
    call,
    run_all,
    with_cache,
)
from promptgraph.lm.cache import CachedLM
from promptgraph.saving import LoadError

DEMO_QUESTIONS = (
    "How do I convert a CSV file to JSON in Python?",
    "Why are people from that town so stupid?",
    "What is the best way to learn linear algebra?",
    "Why do all politicians lie about everything?",
    "Which telescope should a beginner buy?",
    "Can a cat and a dog share a water bowl?",
)
LABEL = re.compile(r"<label>(.*?)</label>")
DEMO_SYSTEM = "Classify the question as sincere or insincere. End with Label: <label>X</label>."


def demo_reply(request: Request) -> str:
    """A scripted stand-in for a model: calls a question insincere if it generalises about people."""
    question = request.messages[-1].content
    insincere = question.startswith("Why") and any(word in question for word in ("all", "so stupid"))
    label = "insincere" if insincere else "sincere"
    return f"The question {'generalises about a group' if insincere else 'asks for information'}.\nLabel: <label>{label}</label>"


def run_demo(arguments: argparse.Namespace) -> int:
    """Runs a batch twice through the cache with a scripted model: the second pass is free."""
    with tempfile.TemporaryDirectory(prefix="promptgraph-demo-") as directory:
        scripted = ScriptedLM(respond=demo_reply)
        lm = CachedLM(scripted, directory=directory)
        requests = [
            Request(messages=[("user", q)], system=DEMO_SYSTEM, max_tokens=64, tag="forward") for q in DEMO_QUESTIONS
        ]
        for attempt in ("first pass", "second pass (same requests)"):
            ledger = Ledger()
            responses = run_all(lm, requests, ledger=ledger, progress=False)
            print(f"== {attempt}")
            for question, response in zip(DEMO_QUESTIONS, responses, strict=True):
                found = LABEL.findall(response.text)
                label = found[-1] if found else "unparsed"
                print(f"  {label:<10} {'(cached) ' if response.cached else '         '}{question}")
            print(ledger.table())
            print()
        lm.close()
        print(f"the scripted model saw {len(scripted.requests)} requests for {2 * len(requests)} asked")
    return 0


def run_ask(arguments: argparse.Namespace) -> int:
    """One real request to a model, through the cache and the ledger."""
    backend = AnthropicLM(model=arguments.model, base_url=arguments.base_url, max_concurrency=1)
    lm = with_cache(backend, enabled=not arguments.no_cache)
    ledger = Ledger()
    request = Request(
        messages=[("user", arguments.text)],
        system=arguments.system,
        max_tokens=arguments.max_tokens,
        temperature=arguments.temperature,
        tag="ask",
    )
    response = call(lm, request, ledger=ledger)
    print(response.text)
    print(
        f"\n[{response.model}, stop: {response.stop_reason}, {response.latency:.2f}s{', cached' if response.cached else ''}]",
        file=sys.stderr,
    )
    print(ledger.table(), file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="promptgraph", description="Train the prompts of LLM programs.")
    top.add_argument("--version", action="version", version=f"promptgraph {promptgraph.__version__}")
    commands = top.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run a scripted batch twice through the cache (no key, no network)")
    demo.set_defaults(run=run_demo)

    ask = commands.add_parser("ask", help="send one request to a model and print the reply and its cost")
    ask.add_argument("text", help="the user message")
    ask.add_argument("--system", default="", help="system prompt")
    ask.add_argument("--model", default=FORWARD_MODEL, help=f"model id (default {FORWARD_MODEL})")
    ask.add_argument(
        "--base-url", default=None, help="a server that speaks the Messages API, e.g. http://127.0.0.1:8080"
    )
    ask.add_argument("--max-tokens", type=int, default=512)
    ask.add_argument("--temperature", type=float, default=None, help="sent only when given")
    ask.add_argument("--no-cache", action="store_true", help="always call the model")
    ask.set_defaults(run=run_ask)

    add_commands(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except (LMError, DataError, LoadError, ValueError) as error:
        print(f"promptgraph: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
