"""Search strategies side by side in simulated worlds where the truth is known, at an equal budget of forward calls.

    python benchmarks/search_worlds.py                          # 5 seeds, 1,500 forward calls, both worlds
    python benchmarks/search_worlds.py --seeds 3 --budget 600 --optimizers tgd opro gepa --worlds rules

Every optimizer runs against the same world server (world_server.py on 127.0.0.1, through
the real anthropic SDK or litellm), on the same train/validation/test split per seed, with
the same budget of forward calls as the server counts them (test evaluation not included).
promptgraph's tgd, tgd+gate, beam, opro (and pareto, when `pg.ParetoSearch` exists) run
through `pg.compile`; `dspy.GEPA` (with a feedback metric, and with plain exact match) runs
when dspy is importable: `pip install -e ".[peers]"` in a separate venv.

The table: mean test accuracy with a 95% interval over seeds (t distribution), forward
and optimizer calls, USD at list prices (forward model as claude-haiku-5-5, strong model as
claude-opus-5-5, from the tokens the world counted), wall seconds; then a paired
comparison over seeds of one optimizer (`--versus`, pareto by default) with each other.
The worlds are documented at the top of world_rules.py and world_pipeline.py.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import itertools
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the world modules beside this script
from tables import table  # noqa: E402
from world_pipeline import PipelineWorld  # noqa: E402
from world_rules import RulesWorld, WorldExample  # noqa: E402
from world_server import STRONG_MODEL, WorldServer  # noqa: E402

import promptgraph as pg  # noqa: E402
from promptgraph.history import best_iteration  # noqa: E402
from promptgraph.optimizers.search import commit  # noqa: E402

WORLDS: dict[str, Callable[[], RulesWorld]] = {"rules": RulesWorld, "pipeline": PipelineWorld}
OPTIMIZERS: dict[str, Callable[[pg.LM], object]] = {
    "tgd": lambda strong: pg.TextualGradientDescent(lm=strong),
    "tgd+gate": lambda strong: pg.TextualGradientDescent(lm=strong, gate=pg.Gate()),
    # Selection capped per step: uncapped, one step of a 3-wide beam here costs about 1,600 forward calls.
    "beam": lambda strong: pg.BeamSearch(lm=strong, max_calls=BEAM_CALLS_PER_STEP),
    "opro": lambda strong: pg.OPRO(lm=strong),
}
if hasattr(pg, "ParetoSearch"):  # the lead's optimizer, from another branch
    OPTIMIZERS["pareto"] = lambda strong: pg.ParetoSearch(strong)
PEERS = ("gepa", "gepa-exact")  # dspy.GEPA with the feedback metric, and with exact match
HAS_DSPY = importlib.util.find_spec("dspy") is not None
BEAM_CALLS_PER_STEP = 300
SAMPLES_PER_LABEL = 10  # compile's minibatch: 30 examples; the validation set is the split's 60
# Two-sided 95% quantiles of Student's t by degrees of freedom (standard tables); past 40, 2.0.
T_975 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
    11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086,
    21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042,
    31: 2.040, 32: 2.037, 33: 2.035, 34: 2.032, 35: 2.030, 36: 2.028, 37: 2.026, 38: 2.024, 39: 2.023, 40: 2.021,
}  # fmt: skip


@attrs.frozen
class Outcome:
    world: str
    optimizer: str
    seed: int
    test: float
    forward: int
    strong: int
    usd: float
    seconds: float


def examples(items: Sequence[WorldExample]) -> list[pg.Example]:
    return [pg.Example({"text": item.text}, item.label, id=item.id) for item in items]


class _BudgetReached(Exception):
    pass


def train_promptgraph(world: RulesWorld, optimizer, server: WorldServer, seed: int, budget: int) -> pg.Program:
    train, val, _ = world.split(seed)
    options = {
        "trainset": examples(train), "valset": examples(val), "lm": server.lm(), "optimizer": optimizer,
        "samples_per_label": SAMPLES_PER_LABEL, "seed": seed, "progress": False,
    }  # fmt: skip
    if "max_metric_calls" in inspect.signature(pg.compile).parameters:  # SHARED CONTRACTS 3
        return pg.compile(world.program(), max_metric_calls=budget, iterations=None, **options).program
    # Until compile takes a forward-call budget (SHARED CONTRACTS 3, from another branch): stop
    # before an iteration that, priced as the costliest so far, would pass it. (Not the dry-run
    # estimate: it ignores BeamSearch's max_calls, and at 2,310 calls would refuse beam any step.)
    marks: list[int] = []
    state: dict = {}

    def on_iteration(history, ledger, program) -> None:
        marks.append(server.forward.calls)
        state["values"], state["program"] = history[best_iteration(history)].values, program
        costliest = max((after - before for before, after in itertools.pairwise(marks)), default=0)
        if marks[-1] + costliest > budget:
            raise _BudgetReached

    try:
        return pg.compile(world.program(), iterations=10_000, on_iteration=on_iteration, **options).program
    except _BudgetReached:
        commit(state["program"], state["values"])
        return state["program"]


def run_one(world_name: str, optimizer: str, seed: int, budget: int) -> Outcome:
    world = WORLDS[world_name]()
    _, _, test = world.split(seed)
    with WorldServer(world, seed=seed) as server:
        started = time.perf_counter()
        if optimizer in PEERS:
            import search_worlds_dspy as peers  # dspy only here: the package and the tests never import it

            evaluate = peers.train_gepa(world, server, seed, budget, feedback=optimizer == "gepa")
        else:
            program = train_promptgraph(world, OPTIMIZERS[optimizer](server.lm(STRONG_MODEL)), server, seed, budget)

            def evaluate(items):
                traces = program.run(examples(items), lm=server.lm(), progress=False)
                return pg.evaluate(traces, labels=list(world.labels)).score

        seconds = time.perf_counter() - started
        spent = (server.forward.calls, server.strong.calls, server.usd())
        accuracy = evaluate(test)
    return Outcome(world_name, optimizer, seed, accuracy, *spent, seconds)


def interval(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% interval (t distribution; 0 for one value)."""
    center = statistics.fmean(values)
    if len(values) < 2:
        return center, 0.0
    t = T_975.get(len(values) - 1, 2.0)
    return center, t * statistics.stdev(values) / math.sqrt(len(values))


def with_interval(values: Sequence[float], sign: str = "") -> str:
    """ "0.750 ± 0.031"; "0.750 ± -" for one value, which has no interval (not one of width 0)."""
    center, half = interval(values)
    return f"{center:{sign}.3f} ± " + (f"{half:.3f}" if len(values) > 1 else "-")


def summary_rows(outcomes: Sequence[Outcome]) -> list[tuple]:
    rows = []
    for world, optimizer in dict.fromkeys((o.world, o.optimizer) for o in outcomes):
        runs = [o for o in outcomes if (o.world, o.optimizer) == (world, optimizer)]
        rows.append((
            world, optimizer, len(runs), with_interval([o.test for o in runs]),
            round(statistics.fmean(o.forward for o in runs)), round(statistics.fmean(o.strong for o in runs)),
            f"{statistics.fmean(o.usd for o in runs):.3f}", f"{statistics.fmean(o.seconds for o in runs):.1f}",
        ))  # fmt: skip
    return rows


def paired_rows(outcomes: Sequence[Outcome], versus: str) -> list[tuple]:
    rows = []
    for world, optimizer in dict.fromkeys((o.world, o.optimizer) for o in outcomes):
        if optimizer == versus:
            continue
        mine = {o.seed: o.test for o in outcomes if (o.world, o.optimizer) == (world, versus)}
        theirs = {o.seed: o.test for o in outcomes if (o.world, o.optimizer) == (world, optimizer)}
        seeds = sorted(set(mine) & set(theirs))
        if seeds:
            differences = [mine[seed] - theirs[seed] for seed in seeds]
            rows.append((world, f"{versus} - {optimizer}", len(seeds), with_interval(differences, sign="+")))
    return rows


def reference_rows(worlds: Sequence[str], seeds: Sequence[int]) -> list[tuple]:
    """What no rules and the best rule set score on the test splits: the floor and the ceiling."""
    rows = []
    for name in worlds:
        world = WORLDS[name]()
        tests = [world.split(seed)[2] for seed in seeds]
        floor = statistics.fmean(world.score(world.base, test) for test in tests)
        best = statistics.fmean(world.score(world.best_instructions(), test) for test in tests)
        rows.append((name, f"{floor:.3f}", f"{best:.3f}"))
    return rows


def run_parser(description: str, *, seeds: int, optimizers: Sequence[str]) -> argparse.ArgumentParser:
    """The options every script here shares: which seeds, budget, optimizers and worlds to run."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from this one (e.g. 20: seeds no default was tuned on)"
    )
    parser.add_argument("--budget", type=int, default=1500, help="forward calls per run")
    parser.add_argument("--optimizers", nargs="+", default=list(optimizers), choices=[*OPTIMIZERS, *PEERS])
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=list(WORLDS))
    return parser


def seeds_of(arguments: argparse.Namespace) -> list[int]:
    return list(range(arguments.first_seed, arguments.first_seed + arguments.seeds))


def run_all(parser: argparse.ArgumentParser, arguments: argparse.Namespace, title: str, run: Callable) -> list:
    """`run(world, optimizer, seed, budget)` for every world, optimizer and seed asked, in that order."""
    if any(name in PEERS for name in arguments.optimizers) and not HAS_DSPY:
        parser.error('dspy is not installed: pip install -e ".[peers]" (in a separate venv)')
    seeds = seeds_of(arguments)
    print(f"# {title}, {time.strftime('%Y-%m-%d')}, {platform.machine()}, Python {platform.python_version()}")
    print(f"# {len(seeds)} seeds, {arguments.budget} forward calls per run\n")
    done = []
    for world in arguments.worlds:
        for optimizer in arguments.optimizers:
            for seed in seeds:
                done.append(run(world, optimizer, seed, arguments.budget))
                print(f"done: {done[-1]}", file=sys.stderr, flush=True)
    return done


def main(argv: Sequence[str] | None = None) -> list[Outcome]:
    available = [*OPTIMIZERS, *(PEERS if HAS_DSPY else ())]
    parser = run_parser(__doc__.split("\n")[0], seeds=5, optimizers=available)
    parser.add_argument(
        "--versus", default=None, help="the optimizer the paired comparison is about (default: pareto, else gepa)"
    )
    arguments = parser.parse_args(argv)
    outcomes = run_all(parser, arguments, "search worlds", run_one)
    header = (
        "world",
        "optimizer",
        "seeds",
        "test accuracy (95% CI)",
        "forward calls",
        "optimizer calls",
        "USD",
        "wall s",
    )
    table(header, summary_rows(outcomes))
    table(("world", "no rules (test)", "best rule set (test)"), reference_rows(arguments.worlds, seeds_of(arguments)))
    versus = arguments.versus or next((name for name in ("pareto", "gepa") if name in arguments.optimizers), None)
    if versus is not None and len(arguments.optimizers) > 1:
        table(("world", "paired difference", "seeds", "mean (95% CI)"), paired_rows(outcomes, versus))
    return outcomes


if __name__ == "__main__":
    main()
