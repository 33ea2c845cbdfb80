import logging
import threading

import httpx2
import pytest

from promptgraph.lm import AnthropicLM, LMError, MissingAPIKey, Request, Usage, run_all
from promptgraph.testing import MessagesServer
from tests.lm.messages_api import RecordingTransport, message_body, ok


def lm_with(transport, **options) -> AnthropicLM:
    options.setdefault("api_key", "test-key")
    return AnthropicLM(http_client=transport.http_client(), max_retries=options.pop("max_retries", 2), **options)


def ask(**settings) -> Request:
    return Request(messages=[("user", "Is the sky green?")], **settings)


def test_the_body_carries_system_messages_max_tokens_and_stop_sequences():
    transport = RecordingTransport(lambda body, n: ok())
    lm_with(transport).complete(ask(system="Answer yes or no.", max_tokens=7, stop_sequences=["</label>"]))
    (body,) = transport.bodies
    assert body["model"] == "claude-haiku-5-5"
    assert body["system"] == "Answer yes or no."
    assert body["messages"] == [{"role": "user", "content": "Is the sky green?"}]
    assert body["max_tokens"] == 7
    assert body["stop_sequences"] == ["</label>"]


def test_sampling_settings_are_absent_unless_asked_for():
    transport = RecordingTransport(lambda body, n: ok())
    lm_with(transport).complete(ask())
    assert not {"temperature", "top_p", "top_k", "system", "stop_sequences"} & set(transport.bodies[0])


def test_temperature_travels_in_the_body_when_set():
    transport = RecordingTransport(lambda body, n: ok())
    lm_with(transport).complete(ask(temperature=0.0, top_k=3))
    assert (transport.bodies[0]["temperature"], transport.bodies[0]["top_k"]) == (0.0, 3)


def test_the_request_model_overrides_the_lm_default():
    transport = RecordingTransport(lambda body, n: ok())
    lm_with(transport).complete(ask(model="claude-opus-5-5"))
    assert transport.bodies[0]["model"] == "claude-opus-5-5"


def test_usage_is_parsed_including_cache_tokens():
    usage = {"input_tokens": 11, "output_tokens": 22, "cache_creation_input_tokens": 33, "cache_read_input_tokens": 44}
    transport = RecordingTransport(lambda body, n: ok(usage=usage, stop_reason="max_tokens", text="partial"))
    response = lm_with(transport).complete(ask())
    assert response.usage == Usage(11, 22, 33, 44)
    assert (response.text, response.stop_reason, response.model, response.cached) == (
        "partial",
        "max_tokens",
        "claude-haiku-5-5",
        False,
    )


def test_only_text_blocks_make_the_reply():
    content = [{"type": "thinking", "thinking": "hmm", "signature": "s"}, {"type": "text", "text": "Label: no"}]
    transport = RecordingTransport(lambda body, n: ok(message_body(content=content)))
    assert lm_with(transport).complete(ask()).text == "Label: no"


def test_a_429_with_retry_after_then_a_200_succeeds():
    def reply(body, number):
        if number == 1:
            error = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
            return httpx2.Response(429, json=error, headers={"retry-after-ms": "20"})
        return ok(text="after the wait")

    transport = RecordingTransport(reply)
    assert lm_with(transport).complete(ask()).text == "after the wait"
    assert len(transport.bodies) == 2


def test_a_400_is_a_clear_error_naming_the_model():
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}
    transport = RecordingTransport(lambda body, n: httpx2.Response(400, json=error))
    with pytest.raises(
        LMError, match=r"claude-opus-5-5: the API answered 400 \(invalid_request_error\): max_tokens: too large"
    ) as caught:
        lm_with(transport, model="claude-opus-5-5").complete(ask())
    assert caught.value.status == 400
    assert len(transport.bodies) == 1  # a 400 is not retried


def test_a_404_hints_at_the_model_name():
    error = {"type": "error", "error": {"type": "not_found_error", "message": "model: claude-3-haiku-20240307"}}
    transport = RecordingTransport(lambda body, n: httpx2.Response(404, json=error))
    with pytest.raises(LMError, match="check the model name"):
        lm_with(transport, model="claude-3-haiku-20240307").complete(ask())


def test_a_reply_that_is_not_json_is_an_lm_error():
    transport = RecordingTransport(lambda body, n: httpx2.Response(200, text="<html>proxy error</html>"))
    with pytest.raises(LMError, match="claude-haiku-5-5"):
        lm_with(transport).complete(ask())


def test_a_missing_key_is_reported_at_the_first_call_not_before():
    lm = AnthropicLM()  # constructing needs no key
    with pytest.raises(MissingAPIKey, match=r"ANTHROPIC_API_KEY.*--base-url"):
        lm.complete(ask())


def test_a_base_url_without_a_key_reaches_a_local_server():
    transport = RecordingTransport(lambda body, n: ok(model="smollm2"))
    lm = AnthropicLM(base_url="http://127.0.0.1:9", http_client=transport.http_client(), model="smollm2")
    assert lm.complete(ask()).model == "smollm2"


def test_the_key_is_not_shown_in_the_repr():
    assert "sk-secret" not in repr(AnthropicLM(api_key="sk-secret"))


def test_fifty_requests_run_ten_at_a_time_and_return_in_order():
    # No clock: each reply holds its slot until ten are in flight (or all fifty have arrived), so a
    # client that ran fewer at once would stall on the timeout and one that ran more would show it.
    state = {"in_flight": 0, "peak": 0, "arrived": 0}
    changed = threading.Condition()

    def reply(body, number):
        with changed:
            state["in_flight"] += 1
            state["arrived"] += 1
            state["peak"] = max(state["peak"], state["in_flight"])
            changed.notify_all()
            changed.wait_for(lambda: state["in_flight"] >= 10 or state["arrived"] == 50, timeout=60)
        with changed:
            state["in_flight"] -= 1
        return ok(text=body["messages"][0]["content"])

    lm = lm_with(RecordingTransport(reply), max_concurrency=10)
    responses = run_all(lm, [Request(messages=[("user", f"q{i}")]) for i in range(50)], progress=False)
    assert [response.text for response in responses] == [f"q{i}" for i in range(50)]
    assert state["peak"] == 10


def test_a_long_shared_system_prompt_is_marked_for_caching():
    transport = RecordingTransport(lambda body, n: ok())
    lm_with(transport, model="claude-sonnet-5").complete(ask(system="rules " * 1000, shared_prefix=-1))
    (block,) = transport.bodies[0]["system"]
    assert block["cache_control"] == {"type": "ephemeral"} and block["text"].startswith("rules")


def test_a_prefix_below_the_models_minimum_is_not_marked():
    transport = RecordingTransport(lambda body, n: ok())
    lm_with(transport, model="claude-haiku-4-5").complete(
        ask(system="rules " * 1000, shared_prefix=-1)
    )  # ~1,500 < 4,096
    assert transport.bodies[0]["system"] == "rules " * 1000


def test_the_marker_goes_on_the_last_demo_when_there_are_demos():
    transport = RecordingTransport(lambda body, n: ok())
    messages = [("user", "example " * 500), ("assistant", "answer " * 500), ("user", "the real question")]
    lm_with(transport, model="claude-opus-5").complete(Request(messages=messages, shared_prefix=1))
    sent = transport.bodies[0]["messages"]
    assert sent[1]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent[2]["content"] == "the real question"


def test_requests_that_share_nothing_carry_no_marker():
    transport = RecordingTransport(lambda body, n: ok())
    lm_with(transport).complete(ask(system="rules " * 5000))
    assert isinstance(transport.bodies[0]["system"], str)


def test_the_default_endpoint_is_the_backend_named_anthropic(monkeypatch):
    assert AnthropicLM().backend == "anthropic"
    assert AnthropicLM(base_url="https://api.anthropic.com/").backend == "anthropic"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9000")
    assert AnthropicLM().backend == "http://127.0.0.1:9000"


def test_a_base_url_is_named_in_one_spelling():
    spellings = ["http://127.0.0.1:8080", "HTTP://127.0.0.1:8080/", "http://127.0.0.1:8080//"]
    assert {AnthropicLM(base_url=url).backend for url in spellings} == {"http://127.0.0.1:8080"}
    assert AnthropicLM(base_url="http://localhost:80/v1").backend == "http://localhost/v1"


def test_a_named_backend_is_used_as_given():
    assert AnthropicLM(base_url="http://127.0.0.1:41234", backend_name="local:SmolLM2").backend == "local:SmolLM2"


def test_its_repr_shows_the_model_and_changed_settings_and_never_the_key():
    lm = AnthropicLM(api_key="sk-ant-secret", base_url="http://127.0.0.1:9", max_retries=1)
    assert repr(lm) == "AnthropicLM(model='claude-haiku-5-5', base_url='http://127.0.0.1:9', max_retries=1)"


@pytest.fixture
def server():
    with MessagesServer(lambda request: "ok") as running:
        yield running


def loopback(server, **options) -> AnthropicLM:
    options = {"api_key": "test-key", "max_retries": 0, "layer_retries": 0, "retry_wait": 0.01} | options
    return AnthropicLM(model="claude-haiku-5-5", base_url=server.base_url, **options)


def test_a_request_sent_is_logged_at_debug_with_its_model_tag_max_tokens_and_server(server, caplog):
    with caplog.at_level(logging.DEBUG, logger="promptgraph"):
        loopback(server).complete(Request(messages=[("user", "hi")], tag="critic", max_tokens=77))
    sent = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert any(
        "claude-haiku-5-5" in line and "tag=critic" in line and "max_tokens=77" in line and server.base_url in line
        for line in sent
    ), sent


def test_a_retry_after_a_transient_failure_is_logged_with_the_reason_and_the_wait(server, caplog):
    server.fail_next("529")
    with caplog.at_level(logging.DEBUG, logger="promptgraph"):
        loopback(server, layer_retries=1, retry_wait=0.01).complete(Request(messages=[("user", "hi")]))
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "again in" in r.getMessage()]
    assert len(retries) == 1 and "529" in retries[0] and "0.01s" in retries[0], retries


def test_a_status_the_sdk_will_retry_is_logged_at_info(server, caplog):
    server.fail_next("429")
    with caplog.at_level(logging.INFO, logger="promptgraph"):
        loopback(server, max_retries=1).complete(Request(messages=[("user", "hi")]))
    answered = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("429" in line for line in answered), answered


def test_a_refused_request_is_logged_as_a_warning(server, caplog):
    server.fail_next("400")
    with caplog.at_level(logging.DEBUG, logger="promptgraph"), pytest.raises(LMError):
        loopback(server).complete(Request(messages=[("user", "hi")], tag="forward"))
    refused = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(refused) == 1 and "400" in refused[0] and "tag=forward" in refused[0], refused
