"""The simulated worlds of benchmarks/search_worlds.py: their forward model follows the rules in the prompt,
and the runner prints a table row (one promptgraph optimizer, one seed, a tiny budget; no dspy needed)."""

import sys
from pathlib import Path

import promptgraph as pg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # the scripts import each other so

import search_worlds  # noqa: E402
from world_pipeline import PipelineWorld, topic_of  # noqa: E402
from world_rules import Rule, RulesWorld  # noqa: E402
from world_server import WorldServer  # noqa: E402


def answer(world, server, program, example) -> str:
    traces = program.run([pg.Example({"text": example.text}, example.label, id=example.id)], lm=server.lm())
    return traces[0].prediction


def without_and_with(world, example, rule) -> tuple[tuple[str, str], int]:
    """The world's answers to `example` without and with `rule` in its module's instruction, and the forward calls."""
    with WorldServer(world) as server:
        without = answer(world, server, world.program(), example)
        program = world.program()
        program.nodes[rule.module].system.update(world.render(rule.module, [rule]))
        return (without, answer(world, server, program, example)), server.forward.calls


def test_the_rules_world_answers_a_classifier_right_only_when_its_family_rule_is_in_the_prompt():
    world = RulesWorld()
    example = next(example for example in world.examples if example.default != example.label)
    answers, calls = without_and_with(world, example, Rule("classify", example.family, example.label))
    assert answers == (example.default, example.label)
    assert calls == 2


def test_the_pipeline_world_needs_the_extract_rule_for_an_even_family():
    world = PipelineWorld()
    example = next(e for e in world.examples if e.family % 2 == 0 and e.default != e.label)
    answers, _ = without_and_with(world, example, Rule("extract", example.family, topic_of(example.family)))
    assert answers == (example.default, example.label)


def test_the_runner_runs_one_promptgraph_optimizer_and_prints_its_row(capsys):
    outcomes = search_worlds.main(["--seeds", "1", "--budget", "200", "--optimizers", "tgd", "--worlds", "rules"])
    printed = capsys.readouterr().out
    assert "| rules | tgd | 1 |" in printed
    assert len(outcomes) == 1 and outcomes[0].forward <= 200


def test_the_interval_over_twenty_seeds_uses_students_t_with_nineteen_degrees_of_freedom():
    values = [0.0, 1.0] * 10
    center, half = search_worlds.interval(values)
    standard_error = 0.5129891760425771 / 20**0.5  # the sample standard deviation of ten 0s and ten 1s, over sqrt(20)
    assert center == 0.5
    assert abs(half - 2.093 * standard_error) < 1e-9


def test_the_runner_starts_at_the_first_seed_it_is_given(capsys):
    outcomes = search_worlds.main(
        ["--seeds", "1", "--first-seed", "7", "--budget", "450", "--optimizers", "opro", "--worlds", "rules"]
    )
    assert [outcome.seed for outcome in outcomes] == [7]


def test_one_seed_has_no_interval_and_the_table_says_so_rather_than_print_zero():
    one = [search_worlds.Outcome("rules", name, 0, 0.75, 100, 5, 0.1, 1.0) for name in ("tgd", "pareto")]
    assert search_worlds.summary_rows(one)[0][3] == "0.750 ± -"
    assert search_worlds.paired_rows(one, versus="pareto")[0][3] == "+0.000 ± -"


def test_two_seeds_or_more_show_the_half_width_of_the_interval():
    two = [search_worlds.Outcome("rules", "tgd", seed, test, 100, 5, 0.1, 1.0) for seed, test in ((0, 0.5), (1, 1.0))]
    assert search_worlds.summary_rows(two)[0][3] == f"0.750 ± {search_worlds.interval([0.5, 1.0])[1]:.3f}"
