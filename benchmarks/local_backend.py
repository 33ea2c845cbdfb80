"""Benchmark of the local backend (llama-server + SmolLM2-135M), printed as tables.

1. Throughput: a 100-example classification pass through promptgraph (Program.run) versus
   the same requests sent straight to the server with the anthropic SDK on the same
   number of threads. The ratio shows whether the framework is the bottleneck (target >= 0.9).
2. Accuracy on the insincere-questions sample before and after DemoSearch, on a split
   held out of training and of the optimizer's dev samples.
3. Decoding: the same classifier run twice greedily (temperature 0, a classifier's default)
   and twice at llama-server's default sampling (temperature 0.8, top-k 40, top-p 0.95):
   accuracy of each run and how many answers changed between the two.

    python benchmarks/local_backend.py [--data ../shared/data/qiqc_truncated.csv] [--test-per-label 50]

Needs `promptgraph local setup`. No response cache is used: every request is real.
"""

from __future__ import annotations

import argparse
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anthropic

import promptgraph as pg
from promptgraph.lm.local import LocalServer
from promptgraph.lm.local_setup import find_local

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "qiqc_truncated.csv"
FORMAT = (
    "Is the question sincere or insincere? End with Label: <label>sincere</label> or Label: <label>insincere</label>."
)


def classifier() -> pg.Program:
    return pg.Program.of(pg.Classify(["sincere", "insincere"], system=FORMAT, max_tokens=24), name="classify")


def timed_pass(files, examples: list[pg.Example], *, through_promptgraph: bool) -> float:
    """Requests per second for one pass on a fresh server (no prompt cache carried over), after a warm-up."""
    program = classifier()
    with LocalServer(files=files) as server:
        lm = server.lm()
        program.run(
            [pg.Example({"text": f"Warm-up question {i}?"}) for i in range(lm.max_concurrency)], lm=lm, progress=False
        )
        started = time.perf_counter()
        if through_promptgraph:
            program.run(examples, lm=lm, progress=False)
        else:
            client = anthropic.Anthropic(base_url=server.base_url, api_key="local", max_retries=0)

            def send(example: pg.Example) -> str:
                request = program.nodes["classify"].render(example.inputs)
                messages = [{"role": m.role, "content": m.content} for m in request.messages]
                reply = client.messages.create(
                    model=server.model_name, max_tokens=request.max_tokens, system=request.system, messages=messages
                )
                return reply.content[0].text if reply.content else ""

            with ThreadPoolExecutor(max_workers=lm.max_concurrency) as pool:
                list(pool.map(send, examples))
        return len(examples) / (time.perf_counter() - started)


def throughput(files, examples: list[pg.Example], rounds: int = 2) -> tuple[float, float]:
    """Mean requests/s through promptgraph and straight through the SDK, the order alternating per round."""
    ours, straight = [], []
    for round_ in range(rounds):
        for mine in (True, False) if round_ % 2 == 0 else (False, True):
            (ours if mine else straight).append(timed_pass(files, examples, through_promptgraph=mine))
    return sum(ours) / rounds, sum(straight) / rounds


def accuracy(files, data: Path, test_per_label: int, iterations: int) -> list[tuple[str, float, float]]:
    examples = pg.load_examples(
        data, inputs={"question_text": "text"}, label="target", id="qid", label_map={"0": "sincere", "1": "insincere"}
    )
    rest, test = pg.stratified_split(examples, test_per_label, seed=1)
    with LocalServer(files=files) as server:
        return _accuracy(server.lm(), rest, test, iterations, test_per_label)


def _accuracy(lm, rest, test, iterations, test_per_label) -> list[tuple[str, float, float]]:
    program = classifier()

    def test_score(candidate: pg.Program) -> float:
        return pg.evaluate(candidate.run(test, lm=lm, progress=False), labels=["sincere", "insincere"]).accuracy

    before = test_score(program)
    result = pg.compile(
        program, trainset=rest, lm=lm, optimizer=pg.DemoSearch(per_module=4, candidates=4, dev_per_label=10),
        iterations=iterations, samples_per_label=10, val_per_label=15, progress=False,
    )  # fmt: skip
    after = test_score(result.program)
    val_before, val_after = result.history[0].val.accuracy, result.best.val.accuracy
    return [("validation (30)", val_before, val_after), (f"held-out test ({2 * test_per_label})", before, after)]


def decoding(files, data: Path, per_label: int) -> list[tuple[str, str, str, int]]:
    examples = pg.load_examples(
        data, inputs={"question_text": "text"}, label="target", id="qid", label_map={"0": "sincere", "1": "insincere"}
    )
    sample = pg.stratified_sample(examples, per_label, seed=3)
    rows = []
    with LocalServer(files=files) as server:
        for name, temperature in (("greedy (temperature 0)", 0.0), ("server default (0.8)", None)):
            program = pg.Program.of(pg.Classify(["sincere", "insincere"], temperature=temperature), name="classify")
            runs = [program.run(sample, lm=server.lm(), progress=False, seed=run) for run in (0, 1)]
            scores = [pg.evaluate(traces, labels=["sincere", "insincere"]).accuracy for traces in runs]
            changed = sum(a.prediction != b.prediction for a, b in zip(*runs, strict=True))
            rows.append((name, f"{scores[0]:.3f}", f"{scores[1]:.3f}", changed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--test-per-label", type=int, default=50)
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-decoding", action="store_true")
    arguments = parser.parse_args()
    examples = pg.load_examples(arguments.data, inputs={"question_text": "text"}, label="target", id="qid")[:100]
    print(f"# local backend benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {platform.python_version()}")
    files = find_local()
    if files is None:
        raise SystemExit("the local backend is not set up: run `promptgraph local setup`")
    if not arguments.skip_throughput:
        ours, straight = throughput(files, examples)
        print("\n| 100 classification requests, 4 in flight | requests/s (mean of 2 fresh-server passes) |\n|---|---|")
        print(f"| through promptgraph | {ours:.2f} |\n| straight to the server (SDK) | {straight:.2f} |")
        print(f"| ratio | {ours / straight:.2f} |")
    if not arguments.skip_accuracy:
        rows = accuracy(files, Path(arguments.data), arguments.test_per_label, arguments.iterations)
        print("\n| accuracy | before DemoSearch | after |\n|---|---|---|")
        for name, before, after in rows:
            print(f"| {name} | {before:.3f} | {after:.3f} |")
    if not arguments.skip_decoding:
        rows = decoding(files, Path(arguments.data), arguments.test_per_label)
        print(
            f"\n| untrained classifier, {2 * arguments.test_per_label} questions | accuracy, run 1 | run 2 | answers changed |"
        )
        print("|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
