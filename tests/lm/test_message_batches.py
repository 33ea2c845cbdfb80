"""Message Batches through the real SDK against the loopback server: order, dedup, fallback, resume, half price."""

import json
import logging
import time

import pytest

import promptgraph as pg
from promptgraph.lm import AnthropicLM, Batching, CachedLM, Ledger, Request, ScriptedLM, run_batch
from promptgraph.lm.base import backend_of
from promptgraph.lm.cache import request_key
from promptgraph.testing import MessagesServer
from tests.scenario import FORMAT, KEY_PHRASE, classifier, forward_reply, optimizer_reply, questions

FAST = Batching(poll_seconds=0.02, progress=False)


def echo(request: Request) -> str:
    return "echo " + request.messages[-1].content


@pytest.fixture
def server():
    with MessagesServer(echo, batch_seconds=0.05) as running:
        yield running


def lm_for(server, **options):
    return AnthropicLM(base_url=server.base_url, api_key="test", max_retries=0, layer_retries=0, **options)


def asks(*texts, tag="forward"):
    return [Request(messages=[("user", text)], tag=tag) for text in texts]


def test_answers_come_back_in_the_order_asked_from_one_batch_and_no_single_calls(server):
    results = run_batch(lm_for(server), asks("c", "a", "b"), options=FAST)
    assert [result.text for result in results] == ["echo c", "echo a", "echo b"]
    assert len(server.batches) == 1
    assert server.statuses == {"batched": 3}


def test_a_repeated_request_is_sent_once_and_counted_once(server):
    ledger = Ledger()
    results = run_batch(lm_for(server), asks("a", "b", "a", "a"), options=FAST, ledger=ledger)
    assert [result.text for result in results] == ["echo a", "echo b", "echo a", "echo a"]
    assert server.statuses["batched"] == 2
    (account,) = ledger.accounts()
    assert (account.calls, account.cache_hits) == (2, 2)


def test_batched_answers_are_priced_at_half_the_usd_of_single_calls(server):
    lm = lm_for(server, model="claude-haiku-5-5")
    requests = asks("a question long enough to cost something " * 20)
    single, batched = Ledger(), Ledger()
    pg.call(lm, requests[0], ledger=single)
    (response,) = run_batch(lm, requests, options=FAST, ledger=batched)
    assert response.batched
    assert batched.usd == pytest.approx(single.usd / 2)


def test_items_the_batch_could_not_answer_fall_back_to_single_calls(server):
    server.fail_batch_items(2)
    results = run_batch(lm_for(server), asks("a", "b", "c"), options=FAST)
    assert [result.text for result in results] == ["echo a", "echo b", "echo c"]
    assert server.statuses == {"batched": 1, "ok": 2}
    assert sorted(result.batched for result in results) == [False, False, True]


def test_a_request_that_fails_in_the_batch_and_alone_is_a_failure_not_an_exception(server):
    server.fail_batch_items(1)
    server.fail_next("500", times=5)
    (result,) = run_batch(lm_for(server), asks("a"), options=FAST)
    assert isinstance(result, pg.Failure)
    assert "500" in str(result.error)


def test_large_jobs_are_split_into_batches_within_the_limits(server):
    results = run_batch(lm_for(server), asks(*"abcdefg"), options=Batching(poll_seconds=0.02, max_requests=3))
    assert [result.text for result in results] == [f"echo {letter}" for letter in "abcdefg"]
    assert sorted(batch.size for batch in server.batches.values()) == [1, 3, 3]


def test_cached_answers_are_not_sent_again(server, tmp_path):
    with CachedLM(lm_for(server), directory=tmp_path) as lm:
        run_batch(lm, asks("a", "b"), options=FAST)
        again = run_batch(lm, asks("a", "b", "c"), options=FAST)
    assert [result.cached for result in again] == [True, True, False]
    assert [batch.size for batch in server.batches.values()] == [2, 1]


def test_an_interrupted_wait_resumes_polling_the_same_batch_from_the_state_file(server, tmp_path, monkeypatch):
    options = Batching(state=tmp_path / "batches.json", poll_seconds=0.02, progress=False)
    real_poll = AnthropicLM.poll_batch

    def interrupted(self, batch_id):
        raise KeyboardInterrupt

    monkeypatch.setattr(AnthropicLM, "poll_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_batch(lm_for(server), asks("a", "b"), options=options)
    monkeypatch.setattr(AnthropicLM, "poll_batch", real_poll)
    results = run_batch(lm_for(server), asks("a", "b"), options=options)
    assert [result.text for result in results] == ["echo a", "echo b"]
    assert len(server.batches) == 1
    assert list(json.loads(options.state.read_text())["batches"]) == ["msgbatch_000001"]


def test_a_rerun_reads_what_an_earlier_batch_holds_and_sends_only_what_is_new(server, tmp_path):
    state = tmp_path / "batches.json"
    run_batch(lm_for(server), asks("a", "b"), options=Batching(state=state, poll_seconds=0.02))
    results = run_batch(lm_for(server), asks("c", "b", "a"), options=Batching(state=state, poll_seconds=0.02))
    assert [result.text for result in results] == ["echo c", "echo b", "echo a"]
    assert [batch.size for batch in server.batches.values()] == [2, 1]


def test_a_rerun_reads_a_request_from_its_earlier_batch_under_another_tag(server, tmp_path):
    state = tmp_path / "batches.json"
    run_batch(lm_for(server), asks("a", tag="validate"), options=Batching(state=state, poll_seconds=0.02))
    (result,) = run_batch(lm_for(server), asks("a", tag="search"), options=Batching(state=state, poll_seconds=0.02))
    assert result.text == "echo a" and len(server.batches) == 1


def test_a_batch_submitted_before_ids_carried_tags_is_read_back_not_paid_again(server, tmp_path):
    """Its items' ids are whole request keys, as batches.json files written before then hold."""
    lm, (request,) = lm_for(server), asks("a")
    key = request_key(request, lm.model, backend_of(lm))
    batch_id = lm.submit_batch([{"custom_id": key, "params": lm.batch_params(request)}])
    state = tmp_path / "batches.json"
    state.write_text(json.dumps({"version": 2, "batches": {batch_id: {"created": time.time(), "requests": [key]}}}))
    (result,) = run_batch(lm, [request], options=Batching(state=state, poll_seconds=0.02))
    assert result.text == "echo a" and result.batched and len(server.batches) == 1


def test_results_that_are_gone_are_fetched_one_by_one(server, tmp_path):
    state = tmp_path / "batches.json"
    run_batch(lm_for(server), asks("a"), options=Batching(state=state, poll_seconds=0.02))
    server.batches["msgbatch_000001"].results_gone = True
    with pytest.warns(UserWarning, match="could not read the results"):
        (result,) = run_batch(lm_for(server), asks("a"), options=Batching(state=state, poll_seconds=0.02))
    assert result.text == "echo a" and not result.batched


def test_a_batch_the_server_no_longer_has_is_submitted_again(server, tmp_path):
    state = tmp_path / "batches.json"
    run_batch(lm_for(server), asks("a"), options=Batching(state=state, poll_seconds=0.02))
    server.batches.clear()
    (result,) = run_batch(lm_for(server), asks("a"), options=Batching(state=state, poll_seconds=0.02))
    assert result.text == "echo a"
    assert server.statuses["batched"] == 2


def test_a_broken_state_file_is_refused_with_what_to_do(server, tmp_path):
    state = tmp_path / "batches.json"
    state.write_text("{not json")
    with pytest.raises(ValueError, match="move it away"):
        run_batch(lm_for(server), asks("a"), options=Batching(state=state))


def test_an_lm_that_cannot_batch_is_refused_with_what_to_do():
    with pytest.raises(TypeError, match="Run without --batch"):
        run_batch(ScriptedLM(respond=echo), asks("a"), options=FAST)


def test_a_pipeline_runs_one_batch_per_generation_and_answers_as_without_batches():
    def reply(request):
        content = request.messages[-1].content
        return f"<note>{content.split(chr(10))[0]}</note>" if "<note>" in content else "Label: <label>sincere</label>"

    program = pg.Program(inputs=["text"])
    program.add("note", pg.Generate(outputs=["note"]))
    program.add("classify", pg.Classify(["sincere", "insincere"], inputs=["note"]), note="note.note")
    examples = questions(6)
    with MessagesServer(reply, batch_seconds=0.02) as server:
        lm = lm_for(server)
        plain = program.run(examples, lm=lm, progress=False)
        assert not server.batches
        batched = program.run(examples, lm=lm, progress=False, executor=pg.BatchExecutor(FAST))
    assert [trace.prediction for trace in batched] == [trace.prediction for trace in plain]
    assert [trace.nodes["note"].outputs for trace in batched] == [trace.nodes["note"].outputs for trace in plain]
    assert [batch.size for batch in server.batches.values()] == [6, 6]


def test_compile_with_batches_learns_the_same_program_and_keeps_batch_ids_in_the_run_dir(tmp_path):
    def world(request):
        return optimizer_reply(request) if request.model == "claude-opus-5-5" else forward_reply(request)

    with MessagesServer(world, batch_seconds=0.01) as server:
        forward = lm_for(server, model="claude-haiku-5-5")
        strong = lm_for(server, model="claude-opus-5-5")
        common = dict(trainset=questions(40), iterations=2, samples_per_label=5, val_per_label=5, progress=False)
        plain = pg.compile(classifier(), lm=forward, optimizer=pg.TextualGradientDescent(lm=strong), **common)
        single_calls = server.statuses["ok"]
        batched = pg.compile(
            classifier(),
            lm=forward,
            optimizer=pg.TextualGradientDescent(lm=strong),
            run_dir=tmp_path,
            batch=Batching(state=tmp_path / "batches.json", poll_seconds=0.01, progress=False),
            **common,
        )
    assert batched.program.values() == plain.program.values()
    assert (
        KEY_PHRASE in batched.program.values()["classify.system"]
        and FORMAT in batched.program.values()["classify.system"]
    )
    forward_calls = [a.calls for a in plain.ledger.accounts() if a.model == "claude-haiku-5-5"]
    batched_forward = [a for a in batched.ledger.accounts() if a.model == "claude-haiku-5-5"]
    assert sum(a.calls for a in batched_forward) == sum(forward_calls)
    # Only the optimizer's calls went one by one; every forward call went in a batch.
    optimizer_calls = sum(a.calls for a in batched.ledger.accounts() if a.model == "claude-opus-5-5")
    assert server.statuses["ok"] - single_calls == optimizer_calls
    assert len(json.loads((tmp_path / "batches.json").read_text())["batches"]) == len(server.batches)


class Careful(pg.Module):
    """A user module that catches every Exception around its call, as user code does."""

    inputs, outputs = ("text",), ("text",)

    def forward(self, inputs, ctx):
        try:
            return pg.trace.Outcome(
                "ok", outputs={"text": ctx.complete(Request(messages=[("user", inputs["text"])])).text}
            )
        except Exception as error:  # noqa: BLE001
            return pg.trace.Outcome("failed", error=str(error))


def test_a_module_that_catches_every_exception_still_runs_through_batches(server):
    program = pg.Program.of(Careful(), name="careful")
    (trace,) = program.run(
        [pg.Example({"text": "hi"})], lm=lm_for(server), progress=False, executor=pg.BatchExecutor(FAST)
    )
    assert trace.status == "ok" and trace.prediction == "echo hi"


class Restless(pg.Module):
    """Asks something new every time it runs: it can never be answered from a batch."""

    inputs, outputs = ("text",), ("text",)
    count = 0

    def forward(self, inputs, ctx):
        Restless.count += 1
        return pg.trace.Outcome(
            "ok", outputs={"text": ctx.complete(Request(messages=[("user", f"{Restless.count}")])).text}
        )


def test_a_module_that_never_asks_the_same_twice_is_stopped_with_a_clear_error(server):
    with pytest.raises(pg.GraphError, match="restless asked for new requests after 20 batches"):
        pg.Program.of(Restless(), name="restless").run(
            [pg.Example({"text": "x"})], lm=lm_for(server), progress=False, executor=pg.BatchExecutor(FAST)
        )


def test_an_empty_batched_reply_is_asked_again_not_served_from_the_cache(tmp_path):
    with MessagesServer(lambda request: "", batch_seconds=0.05) as silent:
        with CachedLM(lm_for(silent), directory=tmp_path) as lm:
            run_batch(lm, asks("a"), options=FAST)
            (again,) = run_batch(lm, asks("a"), options=FAST)
    assert again.cached is False
    assert [batch.size for batch in silent.batches.values()] == [1, 1]


def test_an_empty_batched_reply_is_not_read_back_from_its_batch_on_a_rerun(tmp_path):
    options = Batching(state=tmp_path / "batches.json", poll_seconds=0.02, progress=False)
    with MessagesServer(lambda request: "", batch_seconds=0.05) as silent:
        run_batch(lm_for(silent), asks("a"), options=options)
        run_batch(lm_for(silent), asks("a"), options=options)
    assert [batch.size for batch in silent.batches.values()] == [1, 1]


def test_submitting_a_batch_is_logged_with_its_id_and_size(server, caplog):
    with caplog.at_level(logging.INFO, logger="promptgraph"):
        run_batch(lm_for(server), asks("a", "b", "c"), options=FAST)
    (batch_id,) = server.batches
    submitted = [r.getMessage() for r in caplog.records if "submitted" in r.getMessage()]
    assert submitted == [f"submitted Message Batch {batch_id} of 3 requests"]


def test_batching_repr_shows_only_the_settings_changed_from_their_defaults():
    assert repr(Batching(poll_seconds=5)) == "Batching(poll_seconds=5)"
