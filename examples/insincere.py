"""The seed notebook's classifier as a promptgraph program: is a Quora question insincere?

    python examples/insincere.py               # with Claude: needs ANTHROPIC_API_KEY (or --base-url)
    python examples/insincere.py --scripted    # offline, with scripted stand-ins for the models
    python examples/insincere.py --data my.csv --text-column body --label-column y --labels 0=fine,1=bad

The same run through the CLI:
    promptgraph compile ../shared/data/qiqc_truncated.csv --text-column question_text \\
        --label-column target --id-column qid --labels 0=sincere,1=insincere --out runs/insincere
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import promptgraph as pg
from promptgraph.lockfile import Lock, LockHeld

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "qiqc_truncated.csv"


def declare(labels: list[str]) -> pg.Program:
    """One Classify module, untrained: its system prompt names the task, its fixed format the labels."""
    classify = pg.Classify(labels, description="decides whether a Quora question is sincere or insincere")
    classify.system.role = "system prompt of a classifier of Quora questions as sincere or insincere"
    return pg.Program.of(classify, name="classify")


def models(arguments: argparse.Namespace) -> tuple[pg.LM, pg.LM]:
    if arguments.scripted:
        sys.path.insert(0, str(HERE))
        import scripted_models

        return scripted_models.forward_lm(), scripted_models.optimizer_lm()
    forward = pg.AnthropicLM(model=arguments.model, base_url=arguments.base_url)
    optimizer = pg.AnthropicLM(model=arguments.optimizer_model, base_url=arguments.base_url)
    return pg.with_cache(forward), pg.with_cache(optimizer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="a labelled CSV or JSONL (default: the QIQC sample)")
    parser.add_argument("--text-column", default="question_text")
    parser.add_argument("--label-column", default="target")
    parser.add_argument("--id-column", default="qid")
    parser.add_argument("--labels", default="0=sincere,1=insincere", help="raw=name pairs, in order")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--samples-per-label", type=int, default=100)
    parser.add_argument(
        "--out", help="where the program and report go (default: runs/insincere, or runs/insincere-scripted)"
    )
    parser.add_argument("--force", action="store_true", help="replace the program an earlier run saved in --out")
    parser.add_argument(
        "--scripted", action="store_true", help="use scripted stand-ins instead of Claude (no key, no network)"
    )
    parser.add_argument("--model", default=pg.FORWARD_MODEL)
    parser.add_argument("--optimizer-model", default=pg.OPTIMIZER_MODEL)
    parser.add_argument("--base-url", default=None)
    arguments = parser.parse_args(argv)

    label_map = dict(pair.split("=", 1) for pair in arguments.labels.split(","))
    examples = pg.load_examples(
        arguments.data,
        inputs={arguments.text_column: "text"},
        label=arguments.label_column,
        id=arguments.id_column,
        label_map=label_map,
    )
    program = declare(list(dict.fromkeys(label_map.values())))
    # The stand-ins' numbers mean nothing, so they never land where a real run (this script's,
    # or the README's `promptgraph compile --out runs/insincere`) keeps its program.
    out = Path(arguments.out or ("runs/insincere-scripted" if arguments.scripted else "runs/insincere"))
    if (out / "program.json").exists() and not arguments.force:
        parser.error(f"{out / 'program.json'} is there already; give another --out, or --force to replace it")
    out.mkdir(parents=True, exist_ok=True)
    try:  # the lock `promptgraph compile` holds on a run directory while it runs
        lock = Lock.acquire(out / "run.lock", what=f"the run directory {out}")
    except LockHeld as held:
        parser.error(str(held))
    with lock:
        return train(arguments, program, examples, out)


def train(arguments: argparse.Namespace, program: pg.Program, examples: list[pg.Example], out: Path) -> int:
    forward, optimizer = models(arguments)

    progress = pg.ProgressPrinter(iterations=arguments.iterations)  # a line per iteration as it ends
    report = pg.ReportWriter(out / "report", title="insincere questions", overwrite=arguments.force)
    result = pg.compile(
        program,
        trainset=examples,
        lm=forward,
        optimizer=pg.TextualGradientDescent(lm=progress.watch(optimizer)),
        iterations=arguments.iterations,
        samples_per_label=arguments.samples_per_label,
        on_iteration=[report, progress],  # the writer refuses another run's report before any call
    )
    saved = result.program.save(out / "program.json")

    reloaded = pg.load(saved)
    for question in ("How do I repot a cactus?", "Why are all politicians such liars?"):
        print(f"{reloaded(question, lm=forward)!s:>10}  {question}")
    first, best = result.history[0].val, result.best.val
    print(f"\nvalidation accuracy {first.accuracy:.3f} -> {best.accuracy:.3f} (iteration {result.best_iteration})")
    print(result.ledger.table())
    print(f"\nprogram: {saved}\nreport:  {out / 'report' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
