"""Speed and cost benchmarks against the loopback Messages API server, printed as tables.

    python benchmarks/speed_and_cost.py                  # all sections
    python benchmarks/speed_and_cost.py efficiency cache # some of them

Sections:
  efficiency  wall time of a forward pass / ideal, ideal = max(N x latency / concurrency, N / rate limits)
  overhead    CPU seconds per forward call spent in promptgraph itself (scripted LM: no SDK, no HTTP)
  calls       calls per compile iteration, versus the seed notebook's loop and one critic call per example
  cost        USD per iteration at list prices, versus the seed notebook's loop
  cache       an identical second compile: API calls made and wall time, versus the first
  predict     rows per second and peak memory of `promptgraph predict` on a large file

Every request goes through the real anthropic SDK to a server on 127.0.0.1 (except in
`overhead`, which measures promptgraph alone).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tables import table  # benchmarks/tables.py: scripts run from this directory

import promptgraph as pg
from promptgraph import prompts
from promptgraph.lm import AnthropicLM
from promptgraph.testing import MessagesServer

ROOT = Path(__file__).resolve().parent.parent
FORMAT = (
    "Is the question sincere or insincere? End with Label: <label>sincere</label> or Label: <label>insincere</label>."
)


def label_reply(request: pg.Request) -> str:
    return f"Label: <label>{'insincere' if ' all ' in request.messages[-1].content else 'sincere'}</label>"


def questions(count: int) -> list[pg.Example]:
    return [
        pg.Example({"text": f"Why are all group{i} people bad?" if i % 2 else f"How do I bake bread {i}?"}, "insincere" if i % 2 else "sincere", id=str(i))
        for i in range(count)
    ]  # fmt: skip


def classifier(system: str = FORMAT) -> pg.Program:
    return pg.Program.of(pg.Classify(["sincere", "insincere"], system=system, max_tokens=32), name="classify")


def lm(server: MessagesServer | ServerProcess, model: str = "claude-haiku-5-5", concurrency: int = 50) -> AnthropicLM:
    return AnthropicLM(
        model=model, base_url=server.base_url, api_key="bench", max_concurrency=concurrency, max_retries=8
    )


def efficiency() -> None:
    print("## Forward-pass efficiency (500 ms per reply; the server in its own process)\n")
    rows = []
    max_tokens = classifier().nodes["classify"].max_tokens
    # (N, concurrency, requests/s limit, output tokens/s limit, passes on one client)
    cases = (
        (200, 50, None, None, 1),
        (2000, 50, None, None, 1),
        (200, 20, 30.0, None, 1),
        (2000, 50, 80.0, None, 1),
        (2000, 50, None, 80.0 * max_tokens, 1),
        (200, 50, None, None, 2),
    )
    for count, concurrency, rate, tokens, passes in cases:
        with ServerProcess(latency=0.5, requests_per_second=rate, output_tokens_per_second=tokens) as server:
            forward = lm(server, concurrency=concurrency)
            for number in range(passes):  # the last pass is timed; earlier ones warm the client up
                started = time.perf_counter()
                traces = classifier().run(questions(count), lm=forward, seed=number, progress=False)
                wall = time.perf_counter() - started
        ideal = max(
            count * 0.5 / concurrency, count / rate if rate else 0.0, count * max_tokens / tokens if tokens else 0.0
        )
        failed = sum(t.status == "failed" for t in traces)
        rows.append(
            (
                f"{count}{' (warm client)' if passes > 1 else ''}",
                concurrency,
                rate or "none",
                f"{tokens:g}" if tokens else "none",
                f"{wall:.2f}",
                f"{ideal:.2f}",
                f"{wall / ideal:.2f}",
                failed,
                server.statuses.get("rate", 0),
                forward.pacer.held_back,
            )
        )
    header = ("N", "concurrency", "requests/s limit", "output tokens/s limit", "wall s", "ideal s", "wall / ideal",
              "failed", "429s", "paced")  # fmt: skip
    table(header, rows)


SERVER_CHILD = """
import json, sys
from promptgraph.testing import MessagesServer
def reply(request):
    return "Label: <label>" + ("insincere" if " all " in request.messages[-1].content else "sincere") + "</label>"
options = json.loads(sys.argv[1])
with MessagesServer(reply, **options) as server:
    print(server.base_url, flush=True)
    sys.stdin.read()
    print(json.dumps(dict(server.statuses)), flush=True)
"""


class ServerProcess:
    """The loopback server in a child process, so its work does not share the benchmark's GIL."""

    def __init__(self, **options):
        self.options = options
        self.statuses: dict[str, int] = {}

    def __enter__(self) -> ServerProcess:
        self.child = subprocess.Popen(
            [sys.executable, "-c", SERVER_CHILD, json.dumps(self.options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self.child.stdout.readline().strip()
        return self

    def __exit__(self, *exc_info) -> None:
        out, _ = self.child.communicate("")
        self.statuses = json.loads(out.strip().splitlines()[-1])


def overhead() -> None:
    print("## Framework overhead (CPU per forward call, scripted model)\n")
    rows = []
    for count in (1000, 5000):
        scripted = pg.ScriptedLM(respond=label_reply, max_concurrency=8)
        started = time.process_time()
        classifier().run(questions(count), lm=scripted, progress=False)
        cpu = time.process_time() - started
        rows.append((count, f"{cpu:.2f}", f"{1000 * cpu / count:.3f}"))
    table(("calls", "CPU s", "CPU ms per call"), rows)


def _scripted_world():
    sys.path.insert(0, str(ROOT))
    from tests.scenario import asked, chain, chain_forward, forward_reply, graph_critic, graph_rewriter

    def world(request: pg.Request) -> str:
        """The tests' scripted world: the forward model errs until the critic's advice is taken."""
        if asked(request) == "critic":
            return graph_critic(request)
        if asked(request) == "rewrite":
            return edits_reply(request) if '"edits"' in request.messages[0].content else graph_rewriter(request)
        content = request.messages[-1].content
        return chain_forward(request) if "<note>" in content or "<summary>" in content else forward_reply(request)

    return world, chain


def edits_reply(request: pg.Request) -> str:
    """The scripted rewriter in edit mode: the same rule, appended as one edit rather than the whole text again."""
    from tests.scenario import KEY_PHRASE

    names = list(prompts.read(request.messages[0].content).values)
    return json.dumps(
        {"reasoning": "add the rule", "edits": [{"parameter": names[0], "find": "", "replace": KEY_PHRASE}]}
    )


def _compile(
    server: MessagesServer,
    program: pg.Program,
    cache: Path | None = None,
    samples: int = 100,
    batch: bool = False,
    edits: bool = False,
) -> pg.CompileResult:
    forward, strong = lm(server), lm(server, model="claude-opus-5-5", concurrency=4)
    if cache is not None:
        forward, strong = pg.CachedLM(forward, directory=cache), pg.CachedLM(strong, directory=cache)
    batching = pg.Batching(poll_seconds=0.01, progress=False) if batch else False
    if batching:  # as `compile --batch` does: the optimizer's calls too
        strong = pg.BatchedLM(strong, batching)
    return pg.compile(program, trainset=questions(2 * samples + 200), lm=forward, optimizer=pg.TextualGradientDescent(lm=strong, edits=edits),
                      iterations=1, samples_per_label=samples, val_per_label=50, progress=False, batch=batching)  # fmt: skip


def calls() -> None:
    print("## Calls per compile iteration (100 examples per label)\n")
    respond, chain = _scripted_world()
    rows = []
    with MessagesServer(respond) as server:
        for name, program, edges in (
            ("1-module classifier", classifier(""), 1),
            ("3-module pipeline", chain(frozen_tail=False), 3),
        ):
            history = _compile(server, program).history
            ours = {tag: count - history[0].calls.get(tag, 0) for tag, count in history[1].calls.items()}
            per_example_edges = 200 * edges
            rows.append(
                (
                    name,
                    ours.get("forward", 0),
                    ours.get("validate", 0),
                    ours.get("critic", 0),
                    ours.get("rewrite", 0),
                    "200 + 2",
                    per_example_edges,
                )
            )
    table(
        (
            "program",
            "forward",
            "validate",
            "critic",
            "rewrite",
            "seed loop (forward + Opus)",
            "critic calls at one per example per edge",
        ),
        rows,
    )


# A trained classifier's system prompt grows long with rules and examples: about 5,000 tokens here.
LONG_RULES = (
    FORMAT
    + "\n"
    + "\n".join(
        f"Rule {n}: a question that asserts rather than asks, or that demeans group {n}, is insincere."
        for n in range(250)
    )
)


def cost() -> None:
    print("## USD per iteration at list prices (Haiku 5.5 forward, Opus 5.5 optimizer)\n")
    print("Per iteration: 200 forward calls, one critique, one rewrite; promptgraph adds a validation pass of 100.\n")
    respond, _ = _scripted_world()
    rows = []
    variants = {
        "promptgraph, prompt caching": {},
        "promptgraph, prompt caching + --batch": {"batch": True},
        "promptgraph, prompt caching + --batch + --edits": {"batch": True, "edits": True},
    }
    for prompt, system in (("short", ""), ("5,000 tokens", LONG_RULES)):
        runs = {}
        for name, options in variants.items():
            with MessagesServer(respond) as server:  # a fresh server: an empty prompt cache
                runs[name] = _compile(server, classifier(system), **options).ledger
        seed = _seed_loop_usd(runs["promptgraph, prompt caching"])
        rows.append((prompt, "seed loop (no prompt caching, no batches)", f"{seed:.5f}", ""))
        for name, ledger in runs.items():
            ours = _iteration_usd(ledger)
            rows.append((prompt, name, f"{ours:.5f}", f"{1 - ours / seed:.0%}"))
    table(("system prompt", "loop", "USD per iteration", "cheaper than the seed loop"), rows)


def _iteration_usd(ledger: pg.Ledger) -> float:
    usd = ledger.usd_by("tag")
    return usd.get("forward", 0) + usd.get("critic", 0) + usd.get("rewrite", 0) + usd.get("validate", 0) / 2


def _seed_loop_usd(ledger: pg.Ledger) -> float:
    """The same forward, critic and rewrite tokens at full price, with no prompt cache (the seed sends no cache_control)."""
    total = 0.0
    for account in ledger.accounts():
        if account.tag in ("forward", "critic", "rewrite"):
            usage = account.usage
            uncached = pg.Usage(
                usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens, usage.output_tokens
            )
            total += uncached.cost(account.model)
    return total


def cache() -> None:
    print("## An identical second compile (200 ms per reply)\n")
    respond, _ = _scripted_world()
    rows = []
    with tempfile.TemporaryDirectory() as directory, MessagesServer(respond, latency=0.2) as server:
        for attempt in ("first", "second"):
            before = sum(server.statuses.values())
            started = time.perf_counter()
            _compile(server, classifier(""), cache=Path(directory), samples=50)
            rows.append((attempt, sum(server.statuses.values()) - before, f"{time.perf_counter() - started:.2f}"))
    table(("compile", "API calls", "wall s"), rows)
    print(f"second / first wall time: {float(rows[1][2]) / float(rows[0][2]):.3f}\n")


def predict(rows_count: int) -> None:
    print(f"## predict on {rows_count:,} rows\n")
    results = []
    with tempfile.TemporaryDirectory() as directory, MessagesServer(label_reply) as server:
        program = classifier().save(Path(directory) / "program.json")
        for count in (rows_count // 10, rows_count):
            data = Path(directory) / f"texts{count}.csv"
            with data.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["id", "text"])
                writer.writerows((example.id, example.inputs["text"]) for example in questions(count))
            command = [
                sys.executable,
                "-c",
                PREDICT_CHILD,
                str(program),
                str(data),
                str(Path(directory) / f"out{count}.csv"),
                server.base_url,
            ]
            measured = json.loads(
                subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
            )
            results.append((f"{count:,}", f"{count / measured['seconds']:.0f}", f"{measured['max_rss_mb']:.0f}"))
    table(("rows", "rows/s", "peak memory MB"), results)


PREDICT_CHILD = """
import json, resource, sys, time
from promptgraph.cli import main
started = time.perf_counter()
main(["predict", sys.argv[1], sys.argv[2], "--id-column", "id", "--output", sys.argv[3], "--base-url", sys.argv[4], "--no-cache", "--max-concurrency", "32"])
print(json.dumps({"seconds": time.perf_counter() - started, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    sections = {"efficiency": efficiency, "overhead": overhead, "calls": calls, "cost": cost, "cache": cache}
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join([*sections, 'predict'])} (default: all)")
    parser.add_argument("--predict-rows", type=int, default=100_000)
    arguments = parser.parse_args()
    unknown = sorted(set(arguments.sections) - {*sections, "predict"})
    if unknown:
        parser.error(f"no section {', '.join(unknown)}")
    print(f"# speed and cost, {time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}\n")
    for name in arguments.sections or [*sections, "predict"]:
        if name == "predict":
            predict(arguments.predict_rows)
        else:
            sections[name]()


if __name__ == "__main__":
    main()
