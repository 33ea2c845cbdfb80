import pytest

from promptgraph.lm import Usage, price_for

MILLION = 1_000_000


def test_input_and_output_are_billed_at_list_price():
    assert Usage(input_tokens=MILLION, output_tokens=MILLION).cost("claude-opus-5-5") == pytest.approx(24.0)
    # 100k prompt tokens: still under Haiku 5.5's long-prompt threshold
    assert Usage(input_tokens=100_000, output_tokens=100_000).cost("claude-haiku-5-5") == pytest.approx(0.06)


def test_cache_writes_cost_a_quarter_more_and_reads_a_tenth_of_input():
    assert Usage(cache_write_tokens=MILLION).cost("claude-opus-5-5") == pytest.approx(5.0)
    assert Usage(cache_read_tokens=MILLION).cost("claude-opus-5-5") == pytest.approx(0.40)


def test_haiku_prompts_over_100k_tokens_bill_at_five_times():
    short = Usage(input_tokens=100_000, output_tokens=1_000).cost("claude-haiku-5-5")
    long = Usage(input_tokens=100_001, output_tokens=1_000).cost("claude-haiku-5-5")
    assert short == pytest.approx(0.0105)
    assert long == pytest.approx(5 * (100_001 * 0.10 + 1_000 * 0.50) / MILLION)


def test_a_dated_snapshot_has_its_family_price():
    assert price_for("claude-opus-5-5-20261001") == price_for("claude-opus-5-5")


def test_a_similar_but_different_model_is_not_given_a_neighbour_price():
    assert price_for("claude-opus-5-7") is None


def test_an_unknown_model_costs_zero_rather_than_a_guess():
    assert price_for("smollm2-135m") is None
    assert Usage(input_tokens=MILLION).cost("smollm2-135m") == 0.0


def test_a_batched_request_costs_half_of_everything_cache_tokens_included():
    usage = Usage(input_tokens=1000, output_tokens=500, cache_write_tokens=2000, cache_read_tokens=4000)
    assert usage.cost("claude-opus-5-5", batched=True) == pytest.approx(usage.cost("claude-opus-5-5") / 2)
