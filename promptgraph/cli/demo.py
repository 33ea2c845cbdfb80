"""`promptgraph demo`: a scripted batch run twice through the cache; no key, no network."""

from __future__ import annotations

import argparse
import re
import tempfile

from promptgraph.lm import Ledger, Request, ScriptedLM, run_all
from promptgraph.lm.cache import CachedLM

LABEL = re.compile(r"<label>(.*?)</label>")
DEMO_QUESTIONS = (
    "How do I convert a CSV file to JSON in Python?",
    "Why are people from that town so stupid?",
    "What is the best way to learn linear algebra?",
    "Why do all politicians lie about everything?",
    "Which telescope should a beginner buy?",
    "Can a cat and a dog share a water bowl?",
)
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


def add_command(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="run a scripted batch twice through the cache (no key, no network)",
        description="Run six questions through a scripted stand-in for a model, twice: the second pass is "
        "answered from the response cache and costs nothing.",
        epilog="example:\n  promptgraph demo",
    )
    demo.set_defaults(run=run_demo)
