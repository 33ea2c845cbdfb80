import threading

import pytest

from promptgraph.lm import Failure, Ledger, LMError, Request, ScriptedLM, call, run_all


def numbered(n, tag="forward"):
    return [Request(messages=[("user", str(i))], tag=tag) for i in range(n)]


def test_responses_come_back_in_request_order():
    lm = ScriptedLM(respond=lambda request: f"answer {request.messages[0].content}", delay=0.01)
    responses = run_all(lm, numbered(30), progress=False)
    assert [response.text for response in responses] == [f"answer {i}" for i in range(30)]


def test_an_empty_batch_is_an_empty_list():
    assert run_all(ScriptedLM(), [], progress=False) == []


def test_a_failed_request_becomes_a_failure_in_its_slot_and_the_rest_go_on():
    def respond(request):
        if request.messages[0].content == "3":
            raise LMError("server said no", model="m", status=500)
        return "fine"

    ledger = Ledger()
    results = run_all(ScriptedLM(respond=respond), numbered(6), ledger=ledger, progress=False)
    assert isinstance(results[3], Failure)
    assert results[3].request.messages[0].content == "3"
    assert results[3].error.status == 500
    assert [r.text for i, r in enumerate(results) if i != 3] == ["fine"] * 5
    (account,) = ledger.accounts()
    assert (account.calls, account.failures) == (5, 1)


def test_a_bug_in_caller_code_is_raised_not_hidden():
    def respond(request):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_all(ScriptedLM(respond=respond), numbered(4), progress=False)


def test_no_more_than_max_concurrency_requests_run_at_once():
    in_flight, peak, lock = 0, 0, threading.Lock()

    def respond(request):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        threading.Event().wait(0.01)
        with lock:
            in_flight -= 1
        return "ok"

    run_all(ScriptedLM(respond=respond, max_concurrency=3), numbered(20), progress=False)
    assert peak == 3


def test_the_ledger_records_each_call_under_its_tag():
    ledger = Ledger()
    run_all(ScriptedLM(respond=lambda r: "x"), numbered(3, tag="critic"), ledger=ledger, progress=False)
    assert [(a.tag, a.calls) for a in ledger.accounts()] == [("critic", 3)]


def test_a_single_call_raises_and_records_its_failure():
    ledger = Ledger()
    with pytest.raises(LMError):
        call(ScriptedLM(), Request(messages=[("user", "x")], tag="rewrite"), ledger=ledger)
    assert [(a.tag, a.failures) for a in ledger.accounts()] == [("rewrite", 1)]
