from promptgraph import Ledger, Request, ScriptedLM
from promptgraph.structured import ask_json, first_json_object

REQUEST = Request(messages=[("user", "give json")], tag="rewrite")


def needs_key(data):
    return [] if "key" in data else ['"key" is missing']


def test_json_is_found_inside_prose_and_code_fences():
    assert first_json_object('Sure!\n```json\n{"a": {"b": 1}}\n```') == {"a": {"b": 1}}


def test_a_brace_that_starts_no_object_is_skipped():
    assert first_json_object('use {braces} like {"x": 1}') == {"x": 1}


def test_a_good_reply_is_used_as_is():
    reply = ask_json(ScriptedLM(replies=['{"key": 1}']), REQUEST, needs_key)
    assert (reply.data, reply.repaired) == ({"key": 1}, False)


def test_a_malformed_reply_gets_one_repair_that_sees_the_problem():
    lm = ScriptedLM(replies=['{"other": 1}', '{"key": 2}'])
    reply = ask_json(lm, REQUEST, needs_key)
    assert (reply.data, reply.repaired) == ({"key": 2}, True)
    assert '"key" is missing' in lm.requests[1].messages[-1].content


def test_after_a_failed_repair_there_is_no_data_and_the_problems_are_given():
    lm = ScriptedLM(replies=["no json here", "still none", "never asked"])
    reply = ask_json(lm, REQUEST, needs_key)
    assert reply.data is None
    assert reply.problems == ("the reply holds no JSON object",)
    assert len(lm.requests) == 2


def test_a_failed_call_is_an_unusable_reply_not_a_crash():
    ledger = Ledger()
    reply = ask_json(ScriptedLM(), REQUEST, needs_key, ledger=ledger)
    assert reply.data is None and "call failed" in reply.problems[0]
    assert ledger.accounts()[0].failures == 1
