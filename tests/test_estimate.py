import pytest

import promptgraph as pg
from promptgraph import Classify, DemoSearch, Program, TextualGradientDescent
from promptgraph.estimate import estimate_compile, estimate_table
from tests.scenario import FORMAT, LABELS, chain, questions


def estimate(program, optimizer, **options):
    options = {"valset_size": 10, "iterations": 3, "samples_per_label": 5} | options
    phases = estimate_compile(
        program,
        trainset=questions(40),
        optimizer=optimizer,
        forward_model="claude-haiku-5-5",
        optimizer_model="claude-opus-5-5",
        **options,
    )
    return {phase.phase: phase for phase in phases}


def classifier():
    return Program.of(Classify(LABELS, system=FORMAT, max_tokens=50), name="c")


def test_forward_and_validation_calls_are_counted_exactly():
    phases = estimate(classifier(), TextualGradientDescent(lm=None))
    assert phases["forward"].calls == 3 * 10  # 3 iterations x 5 per label x 2 labels
    assert phases["validate"].calls == 4 * 10  # iteration 0 too
    assert phases["forward"].max_output_tokens == 30 * 50


def test_optimizer_calls_are_a_constant_per_module_with_one_repair_each():
    small, large = (
        estimate(chain(frozen_tail=False), TextualGradientDescent(lm=None), samples_per_label=n) for n in (5, 50)
    )
    assert small["critic (at most)"].calls == large["critic (at most)"].calls == 2 * 3 * 3


def test_demo_search_counts_its_candidate_scoring():
    phases = estimate(classifier(), DemoSearch(candidates=4, dev_per_label=5))
    assert phases["search (demos)"].calls == 3 * 5 * 10


def test_input_tokens_grow_with_the_prompt():
    short = estimate(classifier(), DemoSearch())["forward"].input_tokens
    long = estimate(Program.of(Classify(LABELS, system=FORMAT * 20), name="c"), DemoSearch())["forward"].input_tokens
    assert long > 5 * short


def test_the_table_totals_the_upper_bound_in_dollars():
    table = estimate_table(list(estimate(classifier(), TextualGradientDescent(lm=None)).values()))
    assert table.splitlines()[-1].startswith("total")
    assert float(table.splitlines()[-1].split()[-1]) == pytest.approx(
        sum(p.max_usd for p in estimate(classifier(), TextualGradientDescent(lm=None)).values()), abs=1e-4
    )


def test_every_optimizer_has_its_own_calls_estimated():
    import promptgraph as pg

    tgd = TextualGradientDescent(lm=None)
    expected = {
        "beam": (
            pg.BeamSearch(lm=None),
            {"forward (beam members)", "critic (at most)", "rewrite (at most)", "search (selection)"},
        ),
        "opro": (pg.OPRO(lm=None), {"opro (at most)", "search (proposal scoring)"}),
        "ape": (
            pg.ProposeInstructions(lm=None, then=tgd),
            {"propose (at most)", "search (proposal scoring)", "critic (at most)"},
        ),
        "gate": (TextualGradientDescent(lm=None, gate=pg.Gate()), {"critic (at most)", "search (gate)"}),
        "chain": (pg.Chain(tgd, DemoSearch()), {"critic (at most)", "search (demos)"}),
    }
    for name, (optimizer, phases) in expected.items():
        assert phases <= set(estimate(classifier(), optimizer)), name


def test_every_phase_is_named_first_by_the_tag_its_calls_carry_in_the_ledger():
    import promptgraph as pg
    from promptgraph.prompts.render import CRITIC, OPRO, PARAPHRASE, PROPOSE, REWRITE

    tags = {"forward", "validate", "search", CRITIC, REWRITE, PARAPHRASE, OPRO, PROPOSE}  # what compile and they send
    tgd = TextualGradientDescent(lm=None, gate=pg.Gate())
    for optimizer in (tgd, pg.BeamSearch(lm=None), pg.OPRO(lm=None), pg.ProposeInstructions(lm=None), DemoSearch()):
        named = {phase.split(" (")[0] for phase in estimate(classifier(), optimizer)}
        assert named <= tags, type(optimizer).__name__


def test_beam_selection_is_estimated_from_its_rounds():
    import promptgraph as pg

    phases = estimate(classifier(), pg.BeamSearch(lm=None, width=2, expansions=1, paraphrases=0, per_round=5))
    # 2 members x 2 candidates each = 4 candidates, 2 rounds: 4 then 3 scored on 10 examples, 3 iterations
    assert phases["search (selection)"].calls == 3 * (4 + 3) * 10


class PricesItself(pg.optimizers.Optimizer):
    def step(self, program, *, traces, evaluation, context):
        raise AssertionError("an estimate runs nothing")

    def estimate(self, shape):
        return [shape.strong("my calls", shape.steps, 100, 10)]


def test_estimate_compile_prices_the_optimizer_by_its_own_estimate():
    phases = estimate(classifier(), PricesItself())
    assert phases["my calls"].calls == 3  # one per step, over 3 iterations


def test_a_chain_is_priced_by_the_estimates_of_its_optimizers():
    phases = estimate(classifier(), pg.Chain(PricesItself(), DemoSearch()))
    assert phases["my calls"].calls == 3 and "search (demos)" in phases


def test_propose_instructions_prices_its_then_optimizer_for_the_steps_after_its_own():
    phases = estimate(classifier(), pg.ProposeInstructions(lm=None, then=PricesItself()))
    assert phases["my calls"].calls == 2


@pytest.mark.parametrize(
    "optimizer",
    [
        TextualGradientDescent(lm=None),
        pg.BeamSearch(lm=None),
        pg.OPRO(lm=None),
        pg.ProposeInstructions(lm=None),
        DemoSearch(),
        pg.Chain(DemoSearch()),
    ],
    ids=lambda optimizer: type(optimizer).__name__,
)
def test_every_optimizer_is_priced_through_its_estimate_method(optimizer, monkeypatch):
    monkeypatch.setattr(type(optimizer), "estimate", lambda self, shape: [shape.strong("marked", 1, 1, 1)])
    assert "marked" in estimate(classifier(), optimizer)


def test_with_max_metric_calls_the_forward_calls_are_capped_at_it():
    uncapped = estimate(classifier(), DemoSearch())
    capped = estimate(classifier(), DemoSearch(), max_metric_calls=50)
    assert sum(p.calls for p in uncapped.values() if p.forward) > 50
    assert 50 - len(capped) <= sum(p.calls for p in capped.values() if p.forward) <= 50  # scaled together, rounded down
    assert any("capped by max_metric_calls" in name for name in capped)
    strong = [p for p in capped.values() if not p.forward]
    assert strong == [p for p in uncapped.values() if not p.forward]


def test_forward_phases_are_marked_so_a_call_budget_can_count_them():
    phases = estimate(classifier(), TextualGradientDescent(lm=None, gate=pg.Gate()))
    assert {name for name, p in phases.items() if p.forward} == {"forward", "validate", "search (gate)"}
