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


def test_a_batch_item_carries_no_tag_so_the_script_sees_the_default(tmp_path):
    options = Batching(state=tmp_path / "batches.json", poll_seconds=0.01, progress=False)
    with MessagesServer(lambda request: request.tag) as server:
        (response,) = run_batch(loopback(server), [Request(messages=[("user", "hi")], tag="forward")], options=options)
    assert response.text == "call" and server.statuses["batched"] == 1
