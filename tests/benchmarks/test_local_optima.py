"""benchmarks/local_optima.py: which programs one edit of a rule list can improve, judged by the world's truth."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # the scripts import each other so

import local_optima  # noqa: E402
from world_rules import Rule, RulesWorld  # noqa: E402


def test_the_best_rule_set_is_a_local_optimum_of_one_edit():
    world = RulesWorld()
    best = world.best_instructions()
    assert local_optima.best_edit(world, best) == world.score(best, world.examples)


def test_a_full_rule_list_without_the_largest_family_is_improved_by_one_replacement():
    world = RulesWorld()
    families = [1, 2, 3, 4, 5, 7, 9, 11]  # the best set, with the smallest family (11) where the largest (0) was
    rules = [Rule("classify", f, world.labels[f % 3]) for f in families]
    program = {"classify": world.render("classify", rules)}
    accuracy = world.score(program, world.examples)
    replaced = world.render("classify", [Rule("classify", 0, world.labels[0]), *rules[:-1]])
    assert local_optima.best_edit(world, program) >= world.score({"classify": replaced}, world.examples) > accuracy


def test_one_edit_covers_adding_removing_replacing_and_moving_to_the_front():
    world = RulesWorld()
    first, second = Rule("classify", 0, "alpha"), Rule("classify", 1, "beta")
    edited = list(local_optima.edits(world, [first, second], "classify"))
    assert [second] in edited and [first] in edited  # removals
    assert [second, first] in edited  # the second moved to the front
    assert [first, Rule("classify", 2, "gamma")] in edited  # the second replaced in place
    assert [Rule("classify", 2, "gamma"), first, second] in edited  # a rule added at the front


def test_the_runner_prints_a_row_for_one_promptgraph_optimizer(capsys):
    endings = local_optima.main(["--seeds", "1", "--budget", "200", "--optimizers", "tgd", "--worlds", "rules"])
    assert "| rules | tgd | 1 |" in capsys.readouterr().out
    assert len(endings) == 1 and endings[0].best_edit >= endings[0].accuracy
