import inspect
import json
import logging
import re

import pytest

import promptgraph as pg
from promptgraph import CachedLM, CompileResult, DataError, Example, IterationRecord, TextualGradientDescent
from tests.scenario import CRITIQUE, FORMAT, KEY_PHRASE, classifier, forward_lm, forward_reply, optimizer_lm, questions


def train(program=None, *, forward=None, optimizer=None, examples=None, **options):
    options = {"iterations": 2, "samples_per_label": 8, "val_per_label": 6, "progress": False} | options
    return pg.compile(
        program or classifier(),
        trainset=examples or questions(60),
        lm=forward or forward_lm(),
        optimizer=TextualGradientDescent(lm=optimizer or optimizer_lm()),
        **options,
    )


def test_compile_raises_validation_accuracy_and_keeps_the_best_program():
    result = train()
    assert result.history[0].val.accuracy == 0.5
    assert result.best.val.accuracy == 1.0
    assert KEY_PHRASE in result.program.nodes["classify"].system.value


def test_the_history_shows_the_critique_that_caused_the_change():
    record = train().history[1]
    assert record.critiques[0].text == CRITIQUE
    assert record.updates[0].status == "changed"
    assert KEY_PHRASE in record.updates[0].changes["classify.system"][1]


def test_the_input_program_is_never_changed():
    program = classifier()
    train(program)
    assert program.nodes["classify"].system.value == FORMAT
    assert program.nodes["classify"].system.history == []


def test_the_best_program_is_kept_not_the_last():
    # The rewriter's second change drops the key phrase: validation falls, so iteration 1 must win.
    rewrites = iter([f"{KEY_PHRASE} {FORMAT}", f"Be careful. {FORMAT}"])

    def respond(request):
        if request.tag == "critic":
            return json.dumps({"critique": "c", "parameters": {}, "inputs": {}})
        return json.dumps({"values": {"classify.system": next(rewrites)}})

    # a forward model that errs on one sincere question, so iteration 2 still trains
    def forward(request):
        text = request.messages[-1].content
        if "bread number 0?" in text:
            return "<label>insincere</label>"
        return forward_reply(request)

    examples = questions(60) + [
        Example({"text": "How do I bake bread number 0?"}, "sincere", id=f"dup{i}") for i in range(20)
    ]
    result = train(forward=pg.ScriptedLM(respond=forward), optimizer=pg.ScriptedLM(respond=respond), examples=examples)
    assert result.history[1].val.accuracy > result.history[2].val.accuracy
    assert result.best_iteration == 1
    assert result.program.nodes["classify"].system.value.startswith(KEY_PHRASE)


def test_the_valset_never_appears_in_a_training_minibatch():
    examples = questions(80)
    valset = examples[:20]
    result = train(examples=examples[20:], valset=valset, iterations=3)
    val_ids = {e.id for e in valset}
    for record in result.history[1:]:
        assert not {trace.example.id for trace in record.samples} & val_ids


def test_a_held_out_split_is_taken_once_and_kept_out_of_training():
    forward = forward_lm()
    result = train(forward=forward, iterations=3, program=classifier(""), samples_per_label=20)
    validated = {r.messages[-1].content for r in forward.requests if r.tag == "validate"}
    trained = {r.messages[-1].content for r in forward.requests if r.tag == "forward"}
    assert len(validated) == result.history[0].val.count == 12
    assert trained and not validated & trained


def test_forward_calls_are_the_cache_misses_and_optimizer_calls_a_constant(tmp_path):
    counts = []
    for samples in (5, 15):
        with CachedLM(forward_lm(), directory=tmp_path / f"cache{samples}") as forward:
            result = train(forward=forward, samples_per_label=samples, iterations=1)
        calls = result.history[1].calls
        counts.append(calls)
        assert calls["forward"] == 2 * samples  # every sampled example is a new request
    assert counts[0]["critic"] == counts[1]["critic"] == 1
    assert counts[0]["rewrite"] == counts[1]["rewrite"] == 1


def test_the_same_seed_gives_the_same_run():
    first, second = train(seed=4), train(seed=4)
    assert [r.values for r in first.history] == [r.values for r in second.history]
    assert [[t.example.id for t in r.samples] for r in first.history] == [
        [t.example.id for t in r.samples] for r in second.history
    ]


def test_a_perfect_minibatch_spends_nothing_on_critique():
    result = train(program=classifier(f"{KEY_PHRASE} {FORMAT}"), iterations=2)
    assert result.history[-1].calls.get("critic", 0) == 0
    assert result.history[-1].critiques == ()


def test_labels_the_classifier_does_not_know_are_refused():
    examples = questions(20) + [Example({"text": "x"}, "spam"), Example({"text": "y"}, "spam")]
    with pytest.raises(ValueError, match="does not know: spam"):
        train(examples=examples)


def test_a_single_label_trainset_is_refused():
    with pytest.raises(DataError, match="single label"):
        train(examples=[e for e in questions(20) if e.label == "sincere"])


def test_of_equally_good_iterations_the_earliest_is_kept():
    result = train(iterations=2)
    assert result.history[1].val.score == result.history[2].val.score == 1.0
    assert result.best_iteration == 1


def test_free_text_targets_are_sampled_as_one_group():
    examples = [Example({"text": f"capital of country {i}?"}, f"city {i}", id=str(i)) for i in range(300)]
    program = pg.Program.of(pg.Generate(inputs=("text",), outputs=("answer",)), name="qa")
    forward = pg.ScriptedLM(respond=lambda r: "<answer>city 0</answer>")
    critic = pg.ScriptedLM(
        respond=lambda r: json.dumps({"critique": "c", "parameters": {}, "inputs": {}, "values": {}})
    )
    result = pg.compile(program, trainset=examples, lm=forward, optimizer=TextualGradientDescent(lm=critic),
                        iterations=1, samples_per_label=6, val_per_label=5, progress=False)  # fmt: skip
    assert result.history[0].val.count == 5
    assert len(result.history[1].samples) == 6


def evaluation(score: float, count: int = 10) -> pg.Evaluation:
    return pg.Evaluation(
        count=count, score=score, labels=(), per_label={}, confusion={}, unparsed=0, failed=0, scores=(score,) * count
    )


def test_an_iteration_record_repr_gives_its_number_scores_decision_and_spend():
    record = IterationRecord(
        iteration=2, values={}, val=evaluation(0.8125), train=evaluation(0.5), usd=0.0123, kept=False
    )
    assert repr(record) == "IterationRecord(iteration=2, train=0.50, val=0.81, kept=False, usd=0.0123)"


def test_the_first_iteration_record_repr_has_no_training_score_and_no_spend_when_nothing_was_paid():
    assert repr(IterationRecord(iteration=0, values={}, val=evaluation(0.5))) == (
        "IterationRecord(iteration=0, val=0.50, kept=True)"
    )


def test_a_compile_result_repr_gives_the_best_iteration_the_validation_gain_and_the_cost():
    ledger = pg.Ledger()
    ledger.record(pg.Response("x", "end_turn", pg.Usage(1_000_000, 0), "claude-opus-5-5"), tag="rewrite")
    history = tuple(IterationRecord(iteration=i, values={}, val=evaluation(s)) for i, s in enumerate([0.57, 0.81, 0.7]))
    result = CompileResult(program=classifier(), history=history, ledger=ledger, best_iteration=1)
    assert repr(result) == "CompileResult(best=iteration 1, validation 0.81 from 0.57, 2 iterations, $4.00)"


def test_a_compile_result_repr_counts_the_undone_iterations():
    kept = [True, True, False, False]
    history = tuple(
        IterationRecord(iteration=i, values={}, val=evaluation(0.5 + i / 10), kept=k) for i, k in enumerate(kept)
    )
    result = CompileResult(program=classifier(), history=history, ledger=pg.Ledger(), best_iteration=1)
    assert (
        repr(result) == "CompileResult(best=iteration 1, validation 0.60 from 0.50, 3 iterations (2 undone), $0.0000)"
    )


def test_a_compile_result_repr_says_why_the_run_stopped_early():
    history = (IterationRecord(iteration=0, values={}, val=evaluation(0.5)),)
    result = CompileResult(
        program=classifier(), history=history, ledger=pg.Ledger(), best_iteration=0, stopped="budget: spent $1 of $1"
    )
    assert repr(result) == (
        "CompileResult(best=iteration 0, validation 0.50 from 0.50, 0 iterations, $0.0000, stopped='budget')"
    )


@pytest.fixture(scope="module")
def large_result():
    return train(examples=questions(120), iterations=3, samples_per_label=50, val_per_label=10)


def test_a_compile_result_repr_stays_short_over_a_hundred_examples_and_three_iterations(large_result):
    assert len(large_result.history) == 4 and large_result.history[1].samples
    assert len(repr(large_result)) < 200


def test_an_iteration_record_repr_leaves_out_its_traces_and_per_example_scores(large_result):
    assert len(repr(large_result.history[1])) < 200


def test_compile_logs_one_info_line_per_iteration_with_its_validation_score_and_decision(caplog):
    with caplog.at_level(logging.INFO, logger="promptgraph"):
        train(iterations=2)
    lines = [r.getMessage() for r in caplog.records if r.name == "promptgraph.compile" and r.levelno == logging.INFO]
    per_iteration = [line for line in lines if line.startswith("iteration ")]
    assert [line.split(":")[0] for line in per_iteration] == ["iteration 0", "iteration 1", "iteration 2"], lines
    assert "validation 1.000" in per_iteration[1] and "kept" in per_iteration[1]


def test_compile_logs_why_it_stopped_for_the_budget(caplog):
    with caplog.at_level(logging.INFO, logger="promptgraph.compile"):
        result = train(iterations=3, budget_usd=0.003)  # pays for the first validation (at most $0.0025), no more
    assert result.stopped
    assert any("budget" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


def test_the_compile_docstring_describes_every_argument():
    doc = inspect.getdoc(pg.compile)
    described = set(re.findall(r"^ {4}(\w+): ", doc.split("Args:", 1)[1].split("Returns:", 1)[0], flags=re.MULTILINE))
    assert set(inspect.signature(pg.compile).parameters) == described


def test_compile_without_an_api_key_stops_at_the_first_call_with_what_to_do(monkeypatch):
    from promptgraph.lm import AnthropicLM, MissingAPIKey

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(MissingAPIKey, match="Set ANTHROPIC_API_KEY"):
        pg.compile(classifier(), trainset=questions(40), lm=AnthropicLM(), optimizer=TextualGradientDescent(
            lm=optimizer_lm()), iterations=1, progress=False)  # fmt: skip


def test_a_validation_split_smaller_than_asked_is_said_with_why(caplog):
    with caplog.at_level(logging.WARNING, logger="promptgraph"):
        pg.compile(classifier(), trainset=questions(12), lm=forward_lm(), optimizer=TextualGradientDescent(
            lm=optimizer_lm()), iterations=0, val_per_label=10, progress=False)  # fmt: skip
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("validating on 6 examples, not 10 per label" in line and "at most half" in line for line in warned)


def test_a_validation_split_as_large_as_asked_is_not_warned_of(caplog):
    with caplog.at_level(logging.WARNING, logger="promptgraph"):
        pg.compile(classifier(), trainset=questions(60), lm=forward_lm(), optimizer=TextualGradientDescent(
            lm=optimizer_lm()), iterations=0, val_per_label=10, progress=False)  # fmt: skip
    assert not [r for r in caplog.records if r.levelno == logging.WARNING and "validating on" in r.getMessage()]
