"""The pre-flight probe: one tiny request, no retries, that fails only when the run could not work."""

import pytest

from promptgraph.lm import AnthropicLM, LMError
from promptgraph.testing import MessagesServer


@pytest.fixture
def server():
    with MessagesServer(lambda request: "Label: <label>sincere</label>") as running:
        yield running


def lm_for(server):
    return AnthropicLM(base_url=server.base_url, api_key="test-key", max_retries=4, layer_retries=2)


@pytest.mark.parametrize("fault", ["429", "529", "500"])
def test_a_server_that_is_only_busy_passes_the_probe_after_one_request(server, fault):
    server.fail_always(fault)
    lm_for(server).probe()
    assert server.probes == {fault: 1}


@pytest.mark.parametrize(("fault", "says"), [("401", "ANTHROPIC_API_KEY"), ("not_message", "Messages API")])
def test_a_server_that_could_never_serve_the_run_fails_the_probe_saying_why(server, fault, says):
    server.fail_always(fault)
    with pytest.raises(LMError, match=says):
        lm_for(server).probe()
    assert server.probes == {fault: 1}


def test_the_probe_is_not_one_of_the_runs_calls(server):
    lm_for(server).probe()
    assert server.probes == {"ok": 1} and not server.seen


def test_an_lm_that_answered_its_probe_is_not_probed_again(server):
    lm = lm_for(server)
    lm.probe()
    lm.probe()
    assert server.probes == {"ok": 1}


def test_the_probe_waits_as_long_as_the_lms_own_timeout_so_a_slow_server_is_still_a_server(monkeypatch):
    import promptgraph.lm.anthropic as anthropic_lm

    # The probe used to be capped at PROBE_TIMEOUT (30 s) whatever the LM allowed: a cap below the latency fails.
    monkeypatch.setattr(anthropic_lm, "PROBE_TIMEOUT", 0.2, raising=False)
    with MessagesServer(lambda request: "Label: <label>sincere</label>", latency=1.0) as slow:
        lm = AnthropicLM(base_url=slow.base_url, api_key="test-key", timeout=60)
        lm.probe()
    assert slow.probes == {"ok": 1}
