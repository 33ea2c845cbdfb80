"""Where searches stop in the simulated worlds: is the program they return a local optimum of one edit?

    python benchmarks/local_optima.py                                  # 10 seeds, both worlds, pareto tgd gepa
    python benchmarks/local_optima.py --seeds 40 --worlds rules --optimizers pareto tgd

Each optimizer is trained as in search_worlds.py (same server, split, budget). The program
it returns is then judged by the world's truth on all 600 messages, with no calls: its
accuracy, the best accuracy one edit of one module's rule list reaches, and the world's
best rule set. One edit is what a single rewrite could do to the list of rule sentences:
add any rule (any family, any label) at any position, remove one, replace one in place by
any other, or move one to the front. A program no edit improves by one message or more is a
local optimum: a search that takes only improving steps, one edit at a time, cannot leave
it, whatever its selection, acceptance or budget. The share of runs ending at one says how
much of the gap to the best rule set a better search strategy could close.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the world modules beside this script
import search_worlds as sw  # noqa: E402
from tables import table  # noqa: E402
from world_rules import Rule, RulesWorld  # noqa: E402
from world_server import STRONG_MODEL, WorldServer  # noqa: E402


@attrs.frozen
class Ending:
    world: str
    optimizer: str
    seed: int
    accuracy: float  # on all the world's messages
    best_edit: float  # the best accuracy one edit reaches from it
    best: float  # the world's best rule set


def edits(world: RulesWorld, rules: Sequence[Rule], module: str) -> Iterator[list[Rule]]:
    """Every rule list one edit away: add anywhere, remove, replace in place, move to the front."""
    every = world.all_rules(module)
    for position in range(len(rules) + 1):
        for rule in every:
            if rule not in rules:
                yield [*rules[:position], rule, *rules[position:]]
    for position, old in enumerate(rules):
        rest = [*rules[:position], *rules[position + 1 :]]
        yield rest
        yield [old, *rest]
        for rule in every:
            if rule not in rules:
                yield [*rules[:position], rule, *rules[position + 1 :]]


def best_edit(world: RulesWorld, instructions: dict[str, str]) -> float:
    """The highest accuracy on all messages of a program one edit of one module away."""
    best = 0.0
    for module in world.modules:
        rules = world.rules(module, instructions.get(module, ""))
        for edited in edits(world, rules, module):
            changed = instructions | {module: world.render(module, edited)}
            best = max(best, world.score(changed, world.examples))
    return best


def trained_instructions(world_name: str, optimizer: str, seed: int, budget: int) -> dict[str, str]:
    """Train one optimizer as search_worlds.py does; its program's instruction per module."""
    world = sw.WORLDS[world_name]()
    with WorldServer(world, seed=seed) as server:
        if optimizer in sw.PEERS:
            import search_worlds_dspy as peers  # dspy only here, as in search_worlds.py

            trained = peers.train_gepa(world, server, seed, budget, feedback=optimizer == "gepa")
            found = trained.instructions  # by predictor name: "self" for one module, else the module's
            if len(world.modules) == 1:
                return {world.modules[0]: next(iter(found.values()))}
            return {name.split(".")[0]: text for name, text in found.items()}
        strong = server.lm(STRONG_MODEL)
        program = sw.train_promptgraph(world, sw.OPTIMIZERS[optimizer](strong), server, seed, budget)
    values = dict(program.named_parameters())
    return {module: str(values[f"{module}.system"].value) for module in world.modules}


def judge(world_name: str, optimizer: str, seed: int, budget: int) -> Ending:
    world = sw.WORLDS[world_name]()
    instructions = trained_instructions(world_name, optimizer, seed, budget)
    instructions = {module: instructions.get(module, world.base[module]) for module in world.modules}
    return Ending(
        world_name,
        optimizer,
        seed,
        accuracy=world.score(instructions, world.examples),
        best_edit=best_edit(world, instructions),
        best=world.score(world.best_instructions(), world.examples),
    )


def rows(endings: Sequence[Ending]) -> list[tuple]:
    groups: dict[tuple[str, str], list[Ending]] = {}
    for ending in endings:
        groups.setdefault((ending.world, ending.optimizer), []).append(ending)
    found = []
    for (world, optimizer), group in groups.items():
        stuck = [e for e in group if e.best_edit - e.accuracy < 1 / 600]  # no edit gains one message
        found.append((
            world, optimizer, len(group),
            f"{statistics.fmean(e.accuracy for e in group):.3f}",
            f"{len(stuck)} / {len(group)}",
            f"{statistics.fmean(e.best_edit - e.accuracy for e in group):+.3f}",
            f"{statistics.fmean(e.best - e.accuracy for e in stuck):+.3f}" if stuck else "-",
            f"{statistics.fmean(e.best - e.accuracy for e in group):+.3f}",
        ))  # fmt: skip
    return found


def main(argv: Sequence[str] | None = None) -> list[Ending]:
    peers = sw.PEERS[:1] if sw.HAS_DSPY else ()
    parser = sw.run_parser(__doc__.split("\n")[0], seeds=10, optimizers=["pareto", "tgd", *peers])
    arguments = parser.parse_args(argv)
    endings = sw.run_all(parser, arguments, "local optima", judge)
    header = (
        "world", "optimizer", "seeds", "accuracy (all 600)", "local optima", "best one edit gains",
        "gap to best rule set (at local optima)", "gap to best rule set (all)",
    )  # fmt: skip
    table(header, rows(endings))
    return endings


if __name__ == "__main__":
    main()
