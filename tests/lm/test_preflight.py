"""preflight(): one probe per server and model, looked for through wrappers, before a run pays."""

import pytest

from promptgraph.lm import AnthropicLM, CachedLM, LMError, ScriptedLM
from promptgraph.lm.preflight import preflight
from promptgraph.testing import MessagesServer


@pytest.fixture
def server():
    with MessagesServer(lambda request: "Label: <label>sincere</label>") as running:
        yield running


def lm_for(server, model="claude-haiku-5-5"):
    return AnthropicLM(model=model, base_url=server.base_url, api_key="test-key")


def test_a_cached_lm_is_probed_through_its_cache(server, tmp_path):
    preflight(CachedLM(lm_for(server), directory=tmp_path))
    assert server.probes == {"ok": 1} and not server.seen


def test_two_lms_of_one_server_and_model_are_probed_once(server):
    preflight(lm_for(server), lm_for(server))
    assert server.probes == {"ok": 1}


def test_each_model_is_probed(server):
    preflight(lm_for(server), lm_for(server, model="claude-opus-5-5"))
    assert server.probes == {"ok": 2}


def test_an_lm_without_a_probe_is_skipped():
    preflight(ScriptedLM(respond=lambda request: "x"), None)  # nothing to send, nothing raised


def test_a_refused_key_fails_the_preflight(server):
    server.fail_always("401")
    with pytest.raises(LMError, match="ANTHROPIC_API_KEY"):
        preflight(lm_for(server))
