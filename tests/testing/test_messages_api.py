"""The loopback server hands its script the Request as sent, tag included, over HTTP through the real SDK."""

import anthropic
import pytest

from promptgraph.lm import AnthropicLM, Batching, Request, run_batch
from promptgraph.testing import MessagesServer


def loopback(server) -> AnthropicLM:
    return AnthropicLM(base_url=server.base_url, api_key="test-key", max_retries=0, layer_retries=0)


@pytest.mark.parametrize("tag", ["critic", "synthesize expand", "évaluer/étape 2"])
def test_a_requests_tag_reaches_the_servers_request(tag):
    with MessagesServer(lambda request: f"asked as {request.tag}") as server:
        response = loopback(server).complete(Request(messages=[("user", "hi")], tag=tag))
    assert response.text == f"asked as {tag}"
    assert [request.tag for request in server.seen] == [tag]


def test_a_request_sent_without_the_tag_header_has_the_default_tag():
    with MessagesServer(lambda request: request.tag) as server:
        client = anthropic.Anthropic(base_url=server.base_url, api_key="test-key")
        message = client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text == Request(messages=[("user", "x")]).tag


@pytest.mark.parametrize("tag", ["critic", "synthesize expand", "évaluer/étape 2"])
def test_a_batch_items_tag_reaches_the_servers_request(tmp_path, tag):
    options = Batching(state=tmp_path / "batches.json", poll_seconds=0.01, progress=False)
    with MessagesServer(lambda request: f"asked as {request.tag}") as server:
        (response,) = run_batch(loopback(server), [Request(messages=[("user", "hi")], tag=tag)], options=options)
    assert response.text == f"asked as {tag}" and server.statuses["batched"] == 1
    assert [request.tag for request in server.seen] == [tag]


def test_a_batch_item_whose_tag_is_too_long_for_its_id_has_the_default_tag(tmp_path):
    options = Batching(state=tmp_path / "batches.json", poll_seconds=0.01, progress=False)
    with MessagesServer(lambda request: request.tag) as server:
        (response,) = run_batch(loopback(server), [Request(messages=[("user", "hi")], tag="x" * 40)], options=options)
    assert response.text == Request(messages=[("user", "x")]).tag


@pytest.mark.parametrize("custom_id", ["", "a" * 65, "has space", "évaluer"])
def test_a_batch_item_id_the_api_would_refuse_is_refused(custom_id):
    with MessagesServer(lambda request: "OK") as server:
        client = anthropic.Anthropic(base_url=server.base_url, api_key="test-key", max_retries=0)
        params = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        with pytest.raises(anthropic.BadRequestError, match="custom_id"):
            client.messages.batches.create(requests=[{"custom_id": custom_id, "params": params}])
