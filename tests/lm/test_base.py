import pytest

from promptgraph.lm import Failure, LMError, Message, Request, Response, Usage


def test_messages_accept_tuples_dicts_and_records():
    request = Request(messages=[("user", "a"), {"role": "assistant", "content": "b"}, Message("user", "c")])
    assert request.messages == (Message("user", "a"), Message("assistant", "b"), Message("user", "c"))


def test_a_bare_string_as_messages_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"wrap it"):
        Request(messages="hello")


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError):
        Request(messages=[("system", "x")])


def test_a_request_needs_a_message():
    with pytest.raises(ValueError, match="at least one message"):
        Request(messages=[])


@pytest.mark.parametrize("field, value", [("max_tokens", 0), ("temperature", -0.1), ("top_p", 1.5), ("top_k", 0)])
def test_out_of_range_settings_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        Request(messages=[("user", "x")], **{field: value})


def test_sampling_holds_only_the_settings_asked_for():
    assert Request(messages=[("user", "x")]).sampling() == {}
    assert Request(messages=[("user", "x")], temperature=0.0, top_k=5).sampling() == {"temperature": 0.0, "top_k": 5}


def test_usages_add_field_by_field():
    assert Usage(1, 2, 3, 4) + Usage(10, 20, 30, 40) == Usage(11, 22, 33, 44)


def test_a_request_repr_counts_its_messages_and_shows_the_start_of_the_last_and_changed_settings():
    request = Request(
        messages=[("user", "q" * 5000), ("assistant", "a"), ("user", "Why?")], tag="critic", max_tokens=50
    )
    assert repr(request) == "Request(messages=[3 messages, last: 'Why?'], max_tokens=50, tag='critic')"


def test_a_usage_repr_leaves_out_the_counts_that_are_zero():
    assert repr(Usage(1000, 200)) == "Usage(input_tokens=1000, output_tokens=200)"
    assert repr(Usage.unknown()) == "Usage(known=False)"


def test_a_response_repr_shows_the_start_of_its_text():
    response = Response("x" * 5000, "end_turn", Usage(1, 2), "claude-haiku-5-5")
    assert repr(response) == (
        f"Response(text='{'x' * 40}…', stop_reason='end_turn', usage=Usage(input_tokens=1, output_tokens=2), "
        "model='claude-haiku-5-5')"
    )


def test_a_failure_repr_names_the_model_the_tag_and_the_start_of_the_error():
    request = Request(messages=[("user", "q" * 5000)], model="claude-haiku-5-5", tag="forward")
    failure = Failure(request, LMError("overloaded", status=529))
    assert repr(failure) == "Failure(model='claude-haiku-5-5', tag='forward', error=LMError('overloaded'))"
