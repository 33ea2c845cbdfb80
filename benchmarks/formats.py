"""Benchmark of answer formats: does an untrained classifier's answer parse, and what does effort cost?

1. On the local backend (llama-server + SmolLM2-135M), an untrained classifier on the
   insincere-questions data, five ways: the format left to the prompts (what every
   untrained program sent before signatures: the bare question), the LabelTag format
   stated in the message, the same held to the labels by a grammar, a JSON answer, and
   the JSON answer held to its schema. Unparsed rate, accuracy and seconds per variant.
2. On the local backend, SmolLM2 as the optimizer model too: one TGD iteration's optimizer
   calls with each reply held to its JSON schema (llama-server's json_schema) and without
   (its /v1/messages, which takes no schema): calls, repairs, replies still unusable.
3. On the loopback Messages API server, which spends thinking tokens by effort as told
   (a simulation: the numbers of tokens are this script's, not a model's), the USD of
   100 forward calls priced as claude-haiku-5-5 at each effort: thinking tokens are paid
   as output tokens.
4. On the local backend, the classifier compiled with BootstrapDemos (2 iterations, small
   samples) in the label-tag format and in the JSON-schema format, both held to their
   format by the server: unparsed rate and accuracy at iteration 0 and after compile, on
   validation and on a held-out test set.

    python benchmarks/formats.py [--data ../shared/data/qiqc_truncated.csv] [--per-label 30] [--part compile]

Needs `promptgraph local setup` for parts 1, 2 and 4. No response cache: every request is real.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Literal

from tables import table

import promptgraph as pg
from promptgraph.formats import JSONSchema, LabelTag
from promptgraph.lm.local import LocalServer
from promptgraph.lm.local_setup import find_local
from promptgraph.modules.classify import CLASSIFY_MAX_TOKENS
from promptgraph.testing import MessagesServer

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "qiqc_truncated.csv"
LABELS = ("sincere", "insincere")
PARTS = ("untrained", "optimizer", "effort", "compile")
THINKING = {None: 250, "low": 0, "medium": 120, "high": 500}  # simulated thinking tokens per reply, by effort


def variants() -> list[tuple[str, pg.Prompt, bool]]:
    """(name, untrained module, whether the server may constrain decoding)."""
    json_label = {"label": Literal[LABELS]}
    return [
        (
            "format left to the prompts (before)",
            pg.Classify(LABELS, format=LabelTag(stated=False), max_tokens=64),
            False,
        ),
        ("LabelTag stated", pg.Classify(LABELS, max_tokens=64), False),
        ("LabelTag + grammar", pg.Classify(LABELS, max_tokens=64), True),
        ("JSON stated", pg.Prompt(outputs=json_label, format=JSONSchema(), max_tokens=64), False),
        ("JSON + schema", pg.Prompt(outputs=json_label, format=JSONSchema(), max_tokens=64), True),
    ]


def local_rows(examples: list[pg.Example]) -> list[tuple]:
    rows = []
    with LocalServer() as server:
        for name, module, constrained in variants():
            lm = server.lm() if constrained else server.lm().inner  # the inner LM speaks /v1/messages, which drops both
            program = pg.Program.of(module, name="classify")
            started = time.perf_counter()
            traces = program.run(examples, lm=lm, progress=False)
            seconds = time.perf_counter() - started
            evaluation = pg.evaluate(traces, labels=list(LABELS))
            unparsed = sum(trace.status == "unparsed" for trace in traces) / len(traces)
            rows.append((name, f"{unparsed:.3f}", f"{evaluation.accuracy:.3f}", f"{seconds:.0f}"))
    return rows


def optimizer_rows(examples: list[pg.Example]) -> list[tuple]:
    rows = []
    with LocalServer() as server:
        for name, constrained in (("no schema (before)", False), ("schema (json_schema)", True)):
            lm = server.lm() if constrained else server.lm().inner
            ledger = pg.Ledger()
            optimizer = pg.TextualGradientDescent(lm=lm, max_tokens=400, limits=pg.CritiqueLimits(max_tokens=400))
            result = pg.compile(
                pg.Program.of(pg.Classify(LABELS, max_tokens=64), name="classify"), trainset=examples, lm=lm,
                optimizer=optimizer, iterations=1, samples_per_label=5, val_per_label=5, ledger=ledger, progress=False,
            )  # fmt: skip
            calls = {account.tag: account.calls for account in ledger.accounts()}
            record = result.history[-1]
            asked = len(record.critiques) + len(record.updates)  # one critic and one rewrite request per module
            unusable = sum(item.error is not None for item in (*record.critiques, *record.updates))
            optimizer_calls = calls.get("critic", 0) + calls.get("rewrite", 0)
            rows.append((name, optimizer_calls, optimizer_calls - asked, unusable))
    return rows


def effort_rows(calls: int = 100) -> list[tuple]:
    rows = []
    with MessagesServer(lambda request: "Label: <label>sincere</label>", thinking_tokens=THINKING) as server:
        for effort in (None, "low", "medium", "high"):
            lm = pg.AnthropicLM(model="claude-haiku-5-5", base_url=server.base_url, api_key="loopback")
            program = pg.Program.of(pg.Classify(LABELS, effort=effort), name="classify")
            ledger = pg.Ledger()
            examples = [pg.Example({"text": f"Question {index}?"}, "sincere") for index in range(calls)]
            program.run(examples, lm=lm, ledger=ledger, progress=False)
            (account,) = ledger.accounts()
            rows.append((effort or "(model default)", account.usage.output_tokens, f"{ledger.usd:.4f}"))
    return rows


class JSONClassify(pg.Prompt):
    """The classifier answering in JSON: a Prompt whose labels compile samples and scores by, as a Classify's."""

    labels = LABELS

    def __init__(self) -> None:
        outputs = {"label": Literal[LABELS]}
        super().__init__(outputs=outputs, format=JSONSchema(), max_tokens=CLASSIFY_MAX_TOKENS, temperature=0.0)


def compile_rows(examples: list[pg.Example], test_per_label: int = 20) -> list[tuple]:
    """Both formats constrained (grammar, json_schema), greedy, the same samples, seeds and demos search."""
    rest, test = pg.stratified_split(examples, test_per_label, seed=1)
    rows = []
    with LocalServer() as server:
        for name, module in (("LabelTag + grammar", pg.Classify(LABELS)), ("JSON + schema", JSONClassify())):
            program = pg.Program.of(module, name="classify")
            optimizer = pg.BootstrapDemos(per_module=2, candidates=3, dev_per_label=4)
            result = pg.compile(
                program, trainset=rest, lm=server.lm(), optimizer=optimizer, iterations=2,
                samples_per_label=5, val_per_label=15, progress=False,
            )  # fmt: skip
            before, after = (
                pg.evaluate(each.run(test, lm=server.lm(), progress=False), labels=list(LABELS))
                for each in (program, result.program)
            )
            start, best = result.history[0].val, result.best.val
            rows.append((name, *_rates(start), *_rates(best), *_rates(before), *_rates(after)))
    return rows


def _rates(evaluation: pg.Evaluation) -> tuple[str, str]:
    return f"{evaluation.unparsed_rate:.3f}", f"{evaluation.accuracy:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--per-label", type=int, default=30)
    parser.add_argument("--part", choices=PARTS, action="append", help="run only these parts (default: all)")
    arguments = parser.parse_args()
    parts = arguments.part or PARTS
    print(f"# answer formats, {time.strftime('%Y-%m-%d')}, {platform.machine()}, {platform.python_version()}\n")
    if find_local() is None:
        print("(the local backend is not set up: parts 1, 2 and 4 skipped; run `promptgraph local setup`)\n")
    else:
        examples = pg.load_examples(
            arguments.data, inputs={"question_text": "text"}, label="target", id="qid",
            label_map={"0": "sincere", "1": "insincere"},
        )  # fmt: skip
        local_parts(parts, examples, arguments.per_label)
    if "effort" in parts:
        print(
            "Effort on 100 forward calls, loopback server with simulated thinking tokens, priced as claude-haiku-5-5:\n"
        )
        table(("effort", "output tokens (thinking included)", "USD"), effort_rows())


def local_parts(parts: list[str], examples: list[pg.Example], per_label: int) -> None:
    if "untrained" in parts:
        sample = pg.stratified_sample(examples, per_label, seed=0)
        print(f"Untrained classifier, SmolLM2-135M, {len(sample)} questions:\n")
        table(("variant", "unparsed", "accuracy", "seconds"), local_rows(sample))
    if "optimizer" in parts:
        print("One TGD iteration with SmolLM2 as the critic and rewriter too:\n")
        table(("optimizer replies", "optimizer calls", "repair calls", "unusable replies"), optimizer_rows(examples))
    if "compile" in parts:
        started = time.perf_counter()
        header = ("format", "val unparsed, it. 0", "val accuracy, it. 0", "val unparsed, best", "val accuracy, best")
        header += ("test unparsed, before", "test accuracy, before", "test unparsed, after", "test accuracy, after")
        rows = compile_rows(examples)
        print(f"BootstrapDemos, 2 iterations, SmolLM2-135M ({time.perf_counter() - started:.0f} s):\n")
        table(header, rows)


if __name__ == "__main__":
    main()
