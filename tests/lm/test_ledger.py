import threading

import attrs
import pytest

from promptgraph.lm import Ledger, Response, Usage
from promptgraph.lm.ledger import cost_text


def response(model="claude-haiku-5-5", usage=Usage(1000, 200), cached=False):
    return Response(text="x", stop_reason="end_turn", usage=usage, model=model, cached=cached)


def test_a_known_usage_costs_the_price_table_to_the_cent():
    ledger = Ledger()
    ledger.record(response("claude-opus-5-5", Usage(120_000, 8_000, 10_000, 50_000)), tag="rewrite")
    # 120k x $4 + 8k x $20 + 10k x $5 + 50k x $0.40, per million
    assert round(ledger.usd, 2) == 0.71
    assert ledger.usd == pytest.approx(0.48 + 0.16 + 0.05 + 0.02)


def test_costs_add_up_per_model_and_per_tag():
    ledger = Ledger()
    ledger.record(response("claude-haiku-5-5", Usage(100_000, 0)), tag="forward")
    ledger.record(response("claude-haiku-5-5", Usage(100_000, 0)), tag="forward")
    ledger.record(response("claude-opus-5-5", Usage(1_000_000, 0)), tag="critic")
    assert ledger.usd_by("model") == pytest.approx({"claude-haiku-5-5": 0.02, "claude-opus-5-5": 4.0})
    assert ledger.usd_by("tag") == pytest.approx({"forward": 0.02, "critic": 4.0})
    assert ledger.calls == 3


def test_a_cache_hit_is_counted_and_costs_nothing():
    ledger = Ledger()
    ledger.record(response(cached=True), tag="forward")
    (account,) = ledger.accounts()
    assert (account.calls, account.cache_hits, account.usd, account.usage) == (0, 1, 0.0, Usage())


def test_failures_are_counted_without_cost():
    ledger = Ledger()
    ledger.record_failure("claude-haiku-5-5", tag="forward")
    (account,) = ledger.accounts()
    assert (account.failures, account.calls, account.usd) == (1, 0, 0.0)


def test_records_from_many_threads_are_all_counted():
    ledger = Ledger()

    def record_many():
        for _ in range(500):
            ledger.record(response(usage=Usage(10, 1)), tag="forward")

    threads = [threading.Thread(target=record_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (account,) = ledger.accounts()
    assert account.calls == 4000
    assert account.usage == Usage(40_000, 4_000)


def test_a_ledger_survives_a_round_trip_through_plain_data():
    ledger = Ledger()
    ledger.record(response("claude-opus-5-5", Usage(5, 6, 7, 8)), tag="critic")
    ledger.record(response(cached=True), tag="forward")
    assert Ledger.from_dict(ledger.to_dict()).accounts() == ledger.accounts()


def test_the_table_says_which_models_have_no_price():
    ledger = Ledger()
    ledger.record(response("smollm2-135m"), tag="forward")
    table = ledger.table()
    assert "unknown" in table
    assert "no list price for smollm2-135m" in table


def paid(tokens: int) -> Response:
    return Response(text="x", stop_reason="end_turn", usage=Usage(tokens, 1), model="claude-haiku-5-5")


def test_calls_journaled_after_the_checkpoint_are_added_back_on_resume(tmp_path):
    killed = Ledger()
    killed.journal_to(tmp_path / "journal.jsonl")
    killed.record(paid(100), tag="forward")
    checkpointed, counted = Ledger.from_dict(killed.to_dict()), killed.journal_lines
    killed.record(paid(200), tag="forward")  # paid, then the run was killed before its next checkpoint
    killed.record(attrs.evolve(paid(999), cached=True), tag="forward")  # a hit costs nothing and is not journaled
    checkpointed.journal_to(tmp_path / "journal.jsonl", counted=counted)
    (account,) = checkpointed.accounts()
    assert (account.calls, account.usage.input_tokens) == (2, 300)


def test_a_journal_line_cut_by_a_kill_is_skipped_and_the_next_line_starts_afresh(tmp_path):
    journal = tmp_path / "journal.jsonl"
    killed = Ledger()
    killed.journal_to(journal)
    killed.record(paid(100), tag="forward")
    killed.close_journal()
    with journal.open("a") as file:
        file.write('{"model": "claude-haiku-5-5", "tag": "forw')
    resumed = Ledger()
    resumed.journal_to(journal, counted=0)
    resumed.record(paid(50), tag="forward")
    again = Ledger()
    again.journal_to(journal, counted=0)
    (account,) = again.accounts()
    assert (account.calls, account.usage.input_tokens) == (2, 150)


def test_a_new_run_starts_a_new_journal(tmp_path):
    old = Ledger()
    old.journal_to(tmp_path / "journal.jsonl")
    old.record(paid(100), tag="forward")
    new = Ledger()
    new.journal_to(tmp_path / "journal.jsonl")
    assert (new.accounts(), new.journal_lines) == ([], 0)


def journaled(path, *tokens) -> None:
    """A journal of paid calls left by a run that was killed before its first checkpoint."""
    killed = Ledger()
    killed.journal_to(path)
    for count in tokens:
        killed.record(paid(count), tag="forward")
    killed.close_journal()


def test_a_new_journal_keeps_the_one_it_finds_beside_it_rather_than_cut_it(tmp_path):
    journaled(tmp_path / "journal.jsonl", 100, 200, 300)
    before = (tmp_path / "journal.jsonl").read_text(encoding="utf-8")
    Ledger().journal_to(tmp_path / "journal.jsonl")
    assert (tmp_path / "journal.1.jsonl").read_text(encoding="utf-8") == before
    (account,) = Ledger.from_journal(tmp_path / "journal.1.jsonl").accounts()
    assert (account.calls, account.usage.input_tokens) == (3, 600)


def test_a_new_journal_counts_only_its_own_calls(tmp_path):
    journaled(tmp_path / "journal.jsonl", 100, 200)
    new = Ledger()
    new.journal_to(tmp_path / "journal.jsonl")
    new.record(paid(50), tag="forward")
    new.close_journal()
    (account,) = new.accounts()
    assert (account.calls, account.usage.input_tokens, new.journal_lines) == (1, 50, 1)
    assert len((tmp_path / "journal.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_journals_kept_before_are_kept_too(tmp_path):
    for tokens in (100, 200, 300):
        journaled(tmp_path / "journal.jsonl", tokens)
    Ledger().journal_to(tmp_path / "journal.jsonl")
    kept = [(tmp_path / f"journal.{number}.jsonl").read_text(encoding="utf-8") for number in (1, 2, 3)]
    assert ['"input_tokens": 100' in kept[0], '"input_tokens": 200' in kept[1], '"input_tokens": 300' in kept[2]] == [
        True
    ] * 3


def test_keeping_a_journal_beside_is_said_in_one_log_line(tmp_path, caplog):
    journaled(tmp_path / "journal.jsonl", 100, 200)
    with caplog.at_level("INFO", logger="promptgraph"):
        Ledger().journal_to(tmp_path / "journal.jsonl")
    (said,) = [record.getMessage() for record in caplog.records]
    assert "2 paid calls" in said and str(tmp_path / "journal.1.jsonl") in said and "\n" not in said


def test_an_empty_journal_is_not_kept(tmp_path):
    (tmp_path / "journal.jsonl").write_text("", encoding="utf-8")
    Ledger().journal_to(tmp_path / "journal.jsonl")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["journal.jsonl"]


def test_a_ledger_repr_gives_calls_and_dollars():
    ledger = Ledger()
    ledger.record(response("claude-opus-5-5", Usage(120_000, 8_000, 10_000, 50_000)), tag="rewrite")
    ledger.record(response(), tag="forward")
    assert repr(ledger) == "Ledger(calls=2, $0.7102)"


def test_a_ledger_repr_counts_cache_hits():
    ledger = Ledger()
    ledger.record(response(cached=True), tag="forward")
    assert repr(ledger) == "Ledger(calls=0, cached=1, $0.0000)"


def test_a_ledger_of_unpriced_calls_says_their_cost_is_unknown_not_zero():
    ledger = Ledger()
    ledger.record(response("smollm2-135m"), tag="forward")
    assert repr(ledger) == "Ledger(calls=1, cost unknown)"


def test_answers_of_an_unpriced_model_from_the_cache_leave_the_cost_unknown_as_its_paid_calls_do():
    # A local run's first lines come from the cache, its later ones are paid: both say "cost unknown", as its table row
    cached, paid = Ledger(), Ledger()
    cached.record(response("smollm2-135m", cached=True), tag="forward")
    paid.record(response("smollm2-135m"), tag="forward")
    assert cost_text(cached.accounts()) == cost_text(paid.accounts()) == "cost unknown"
    assert cached.table().splitlines()[1].split()[-1] == cached.table().splitlines()[2].split()[-1] == "unknown"


def test_a_ledger_with_some_unpriced_calls_says_part_of_the_cost_is_unknown():
    ledger = Ledger()
    ledger.record(response("claude-opus-5-5", Usage(1_000_000, 0)), tag="rewrite")
    ledger.record(response("smollm2-135m"), tag="forward")
    assert repr(ledger) == "Ledger(calls=2, $4.00 + unknown)"


def test_a_ledger_repr_stays_short_over_many_accounts():
    ledger = Ledger()
    for index in range(200):
        ledger.record(response(), tag=f"tag{index}")
    assert len(repr(ledger)) < 60


def test_the_table_total_is_unknown_when_no_call_was_priced():
    ledger = Ledger()
    ledger.record(response("smollm2-135m"), tag="forward")
    total = ledger.table().splitlines()[2]
    assert total.split() == ["total", "unknown"]


def test_the_table_total_is_unknown_when_every_call_reported_impossible_usage():
    ledger = Ledger()
    ledger.record(response(usage=Usage.unknown()), tag="forward")
    table = ledger.table()
    assert table.splitlines()[2].split() == ["total", "unknown"]
    assert "1 call reported impossible usage" in table


def test_the_table_total_names_the_unpriced_models_its_sum_leaves_out():
    ledger = Ledger()
    ledger.record(response("claude-opus-5-5", Usage(1_000_000, 0)), tag="rewrite")
    ledger.record(response("smollm2-135m"), tag="forward")
    total = next(line for line in ledger.table().splitlines() if line.startswith("total"))
    assert total.split(maxsplit=1) == ["total", "4.0000 + unpriced calls to smollm2-135m"]


def test_the_table_total_counts_priced_calls_whose_usage_was_impossible():
    ledger = Ledger()
    ledger.record(response("claude-opus-5-5", Usage(1_000_000, 0)), tag="rewrite")
    ledger.record(response("claude-opus-5-5", Usage.unknown()), tag="rewrite")
    total = next(line for line in ledger.table().splitlines() if line.startswith("total"))
    assert total.split(maxsplit=1) == ["total", "4.0000 + 1 call of unknown usage"]


def test_the_table_total_of_priced_calls_is_their_sum_alone():
    ledger = Ledger()
    ledger.record(response("claude-opus-5-5", Usage(1_000_000, 0)), tag="rewrite")
    total = ledger.table().splitlines()[2]
    assert total.split() == ["total", "4.0000"]
