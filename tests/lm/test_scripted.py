import pytest

from promptgraph.lm import LM, LMError, Request, Response, ScriptedLM, Usage


def ask(text="hello", **settings) -> Request:
    return Request(messages=[("user", text)], **settings)


def test_it_satisfies_the_lm_protocol():
    assert isinstance(ScriptedLM(), LM)


def test_replies_come_from_the_queue_in_order():
    lm = ScriptedLM(replies=["one", "two"])
    assert [lm.complete(ask()).text for _ in range(2)] == ["one", "two"]


def test_a_respond_function_sees_the_request():
    lm = ScriptedLM(respond=lambda request: request.system.upper())
    assert lm.complete(ask(system="be brief")).text == "BE BRIEF"


def test_a_respond_function_may_return_a_whole_response():
    canned = Response(text="x", stop_reason="refusal", usage=Usage(1, 1), model="m")
    assert ScriptedLM(respond=lambda request: canned).complete(ask()) is canned


def test_every_request_is_recorded():
    lm = ScriptedLM(replies=["a", "b"])
    lm.complete(ask("first"))
    lm.complete(ask("second"))
    assert [request.messages[0].content for request in lm.requests] == ["first", "second"]


def test_running_out_of_replies_is_a_clear_error():
    lm = ScriptedLM(replies=["only"])
    lm.complete(ask())
    with pytest.raises(LMError, match="ran out of replies at request 2"):
        lm.complete(ask())


def test_a_stop_sequence_ends_the_reply_there():
    response = ScriptedLM(replies=["Label: yes</label> trailing"]).complete(ask(stop_sequences=["</label>"]))
    assert (response.text, response.stop_reason) == ("Label: yes", "stop_sequence")


def test_a_long_reply_is_cut_at_max_tokens():
    response = ScriptedLM(replies=["word " * 100]).complete(ask(max_tokens=5))
    assert response.stop_reason == "max_tokens"
    assert len(response.text) == 20


def test_usage_is_counted_from_text_length():
    response = ScriptedLM(replies=["12345678"]).complete(Request(messages=[("user", "abcd")], system="abcd"))
    assert response.usage == Usage(input_tokens=2, output_tokens=2)


def shout(request):
    return request.messages[-1].content.upper()


def test_its_repr_names_the_model_and_respond_function_not_every_request():
    lm = ScriptedLM(respond=shout, model="claude-haiku-5-5")
    for _ in range(100):
        lm.complete(ask("x" * 1000))
    assert repr(lm) == "ScriptedLM(respond=shout, model='claude-haiku-5-5')"
