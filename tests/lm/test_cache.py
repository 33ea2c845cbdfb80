import logging
import multiprocessing
import threading
from pathlib import Path

import attrs
import pytest

from promptgraph.lm import (
    AnthropicLM,
    CachedLM,
    Ledger,
    Request,
    Response,
    ScriptedLM,
    Usage,
    default_cache_dir,
    request_key,
    run_all,
    with_cache,
)
from promptgraph.lm.base import backend_of
from promptgraph.testing import MessagesServer

BASE = Request(messages=[("user", "Is this sincere?")], system="Classify.", max_tokens=50)

CHANGES = {
    "model": "claude-opus-5-5",
    "system": "Classify carefully.",
    "messages": [("user", "Is this sincere?!")],
    "max_tokens": 51,
    "stop_sequences": ("</label>",),
    "temperature": 0.0,
    "top_p": 0.9,
    "top_k": 40,
    "seed": 1,
}


def echo(request: Request) -> str:
    return f"reply to {request.messages[-1].content}"


@pytest.fixture
def cached(tmp_path):
    inner = ScriptedLM(respond=echo)
    with CachedLM(inner, directory=tmp_path / "cache") as lm:
        yield lm, inner


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_changing_any_one_field_misses_the_cache(cached, field):
    lm, inner = cached
    lm.complete(BASE)
    response = lm.complete(attrs.evolve(BASE, **{field: CHANGES[field]}))
    assert response.cached is False
    assert len(inner.requests) == 2


def test_an_identical_request_hits(cached):
    lm, inner = cached
    first = lm.complete(BASE)
    second = lm.complete(Request(messages=[("user", "Is this sincere?")], system="Classify.", max_tokens=50))
    assert (first.cached, second.cached) == (False, True)
    assert second.text == first.text
    assert len(inner.requests) == 1


def test_the_caller_tag_is_not_part_of_the_key():
    assert request_key(BASE, "m", "b") == request_key(attrs.evolve(BASE, tag="critic"), "m", "b")


def test_a_request_without_a_model_is_keyed_on_the_lm_default():
    assert request_key(BASE, "claude-haiku-5-5", "b") == request_key(
        attrs.evolve(BASE, model="claude-haiku-5-5"), "x", "b"
    )
    assert request_key(BASE, "claude-haiku-5-5", "b") != request_key(BASE, "claude-opus-5-5", "b")


def test_a_hit_records_zero_cost(cached):
    lm, _ = cached
    ledger = Ledger()
    run_all(lm, [attrs.evolve(BASE, model="claude-opus-5-5")] * 2, ledger=ledger, progress=False)
    (account,) = ledger.accounts()
    assert (account.calls, account.cache_hits) == (1, 1)
    assert account.usd == pytest.approx(account.usage.cost("claude-opus-5-5"))
    assert account.usd > 0


def test_identical_requests_from_eight_threads_make_one_call(cached):
    lm, _ = cached
    inner = ScriptedLM(respond=echo, delay=0.05)
    lm.inner = inner
    barrier = threading.Barrier(8)
    responses = [None] * 8

    def ask(index):
        barrier.wait()
        responses[index] = lm.complete(BASE)

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(inner.requests) == 1
    assert len({response.text for response in responses}) == 1
    assert sorted(response.cached for response in responses) == [False] + [True] * 7
    assert len(lm) == 1


def _fill(directory: str, start: int, results) -> None:
    lm = CachedLM(ScriptedLM(respond=echo), directory=directory)
    texts = [lm.complete(Request(messages=[("user", f"q{i}")])).text for i in range(start, start + 40)]
    lm.close()
    results.put(texts)


def test_two_processes_share_one_directory_consistently(tmp_path):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_fill, args=(str(tmp_path / "shared"), start, results)) for start in (0, 20)]
    for worker in workers:
        worker.start()
    outputs = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert all(text.startswith("reply to q") for texts in outputs for text in texts)
    inner = ScriptedLM(respond=echo)
    with CachedLM(inner, directory=tmp_path / "shared") as lm:
        assert len(lm) == 60
        assert [lm.complete(Request(messages=[("user", f"q{i}")])).text for i in range(60)] == [
            f"reply to q{i}" for i in range(60)
        ]
    assert inner.requests == []


def test_failures_are_not_cached(cached):
    lm, inner = cached
    lm.inner = ScriptedLM()  # no replies: every call fails
    with pytest.raises(Exception, match="ran out of replies"):
        lm.complete(BASE)
    lm.inner = inner
    assert lm.complete(BASE).cached is False


def test_the_cache_lives_where_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMPTGRAPH_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("PROMPTGRAPH_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "promptgraph"


def test_a_disabled_cache_is_no_cache_at_all():
    inner = ScriptedLM(respond=echo)
    assert with_cache(inner, enabled=False) is inner


def test_entries_are_stored_as_json_not_pickles(cached):
    lm, _ = cached
    lm.complete(BASE)
    (key,) = list(lm._store)
    assert isinstance(lm._store[key], str)


def refused(request: Request) -> Response:
    return Response(text="I can't help with that.", stop_reason="refusal", usage=Usage(10, 5), model="scripted")


def empty(request: Request) -> Response:
    return Response(text="", stop_reason="end_turn", usage=Usage(10, 0), model="scripted")


def cut(request: Request) -> Response:
    return Response(text="Label: <label>sinc", stop_reason="max_tokens", usage=Usage(10, 50), model="scripted")


def test_the_same_request_to_another_server_is_sent_there_not_answered_from_the_cache(tmp_path):
    with MessagesServer(lambda request: "refused") as first, MessagesServer(lambda request: "answer") as second:
        for server in (first, second):
            lm = CachedLM(AnthropicLM(base_url=server.base_url, api_key="test"), directory=tmp_path)
            with lm:
                response = lm.complete(BASE)
        assert (len(first.seen), len(second.seen)) == (1, 1)
        assert (response.text, response.cached) == ("answer", False)


def test_the_backend_is_part_of_the_key():
    assert request_key(BASE, "m", "anthropic") != request_key(BASE, "m", "http://127.0.0.1:8080")


def test_a_wrapper_names_the_backend_of_the_lm_it_wraps(tmp_path):
    with CachedLM(AnthropicLM(base_url="http://127.0.0.1:8080/"), directory=tmp_path) as lm:
        assert lm.backend == "http://127.0.0.1:8080"


@pytest.mark.parametrize("reply", [refused, empty, cut], ids=["refusal", "empty", "max_tokens"])
def test_a_reply_that_is_not_an_answer_is_asked_again_not_served_from_the_cache(cached, reply):
    lm, inner = cached
    inner.respond = reply
    lm.complete(BASE)
    again = lm.complete(BASE)
    assert again.cached is False
    assert len(inner.requests) == 2


def test_with_serve_incomplete_a_cut_reply_is_served_from_the_cache(tmp_path):
    inner = ScriptedLM(respond=cut)
    with with_cache(inner, directory=tmp_path, serve_incomplete=True) as lm:
        lm.complete(BASE)
        again = lm.complete(BASE)
    assert (again.cached, again.stop_reason, len(inner.requests)) == (True, "max_tokens", 1)


def test_an_lm_that_does_not_name_its_backend_is_keyed_on_its_class(tmp_path):
    class Bare:
        model = "bare"
        max_concurrency = 1

        def complete(self, request):
            return Response(text="hi", stop_reason="end_turn", usage=Usage(), model="bare")

    assert backend_of(Bare()).endswith("Bare")


def test_its_repr_shows_the_lm_it_wraps_and_where_it_stores(cached, tmp_path):
    lm, _ = cached
    assert (
        repr(lm) == f"CachedLM(inner=ScriptedLM(respond=echo, model='scripted'), directory={str(tmp_path / 'cache')!r})"
    )


def test_a_second_identical_call_is_logged_as_a_cache_hit_and_not_sent(tmp_path, caplog):
    with MessagesServer(lambda request: "answer") as server:
        lm = CachedLM(
            AnthropicLM(model="claude-haiku-5-5", base_url=server.base_url, api_key="k"), directory=tmp_path / "c"
        )
        request = Request(messages=[("user", "hi")], tag="validate")
        with caplog.at_level(logging.DEBUG, logger="promptgraph"):
            lm.complete(request)
            first = len(caplog.records)
            lm.complete(request)
    sent = [r.getMessage() for r in caplog.records[:first] if "sending" in r.getMessage()]
    again = [r.getMessage() for r in caplog.records[first:]]
    assert len(sent) == 1
    assert len(again) == 1 and "cache hit" in again[0] and "tag=validate" in again[0], again


def test_a_reply_fetched_and_stored_is_logged_at_debug_with_its_tag(cached, caplog):
    lm, _ = cached
    with caplog.at_level(logging.DEBUG, logger="promptgraph.lm.cache"):
        lm.complete(attrs.evolve(BASE, tag="critic"))
    assert [r.getMessage() for r in caplog.records] == ["cache stored: model=scripted tag=critic"]


def test_a_stored_reply_that_is_not_an_answer_is_logged_when_it_is_sent_again(cached, caplog):
    lm, inner = cached
    inner.respond = cut
    lm.complete(attrs.evolve(BASE, tag="forward"))
    with caplog.at_level(logging.DEBUG, logger="promptgraph.lm.cache"):
        lm.complete(attrs.evolve(BASE, tag="forward"))
    again = [r.getMessage() for r in caplog.records if "no answer" in r.getMessage()]
    assert len(again) == 1 and "tag=forward" in again[0], again
