"""A reply cut at max_tokens is unparsed unless its parser says a cut reply can still be read."""

import pytest

from promptgraph import Classify, Example, Generate, Program
from promptgraph.lm import AnthropicLM
from promptgraph.modules.prompt import reads_cut_replies
from promptgraph.testing import MessagesServer
from promptgraph.trace import OK, UNPARSED

# Cut to its first third, the reply still holds the early, wrong label and not the final one.
CHANGES_ITS_MIND = (
    "At first glance <label>sincere</label>. " + "On reflection, " * 4 + "Label: <label>insincere</label>"
)


@pytest.fixture
def server():
    with MessagesServer(lambda request: CHANGES_ITS_MIND) as running:
        yield running


def run_one(module, server):
    lm = AnthropicLM(base_url=server.base_url, api_key="test-key", max_retries=0, layer_retries=0)
    (trace,) = Program.of(module, name="m").run([Example({"text": "Why are all cats mean?"})], lm=lm, progress=False)
    return trace


def test_a_cut_reply_is_not_read_from_a_label_that_came_before_the_cut(server):
    server.fail_next("max_tokens")
    trace = run_one(Classify(["sincere", "insincere"], max_tokens=50), server)
    assert trace.status == UNPARSED and trace.prediction is None
    assert "cut at max_tokens (50)" in trace.final.outcome.error and "raise max_tokens" in trace.final.outcome.error


def test_a_reply_that_ended_on_its_own_is_read_at_its_final_label(server):
    trace = run_one(Classify(["sincere", "insincere"]), server)
    assert trace.status == OK and trace.prediction == "insincere"


def test_a_parser_that_reads_cut_replies_is_trusted_with_one(server):
    @reads_cut_replies
    def first_label(text):
        return text.split("<label>")[1].split("</label>")[0]

    server.fail_next("max_tokens")
    trace = run_one(Classify(["sincere", "insincere"], parser=first_label), server)
    assert trace.status == OK and trace.prediction == "sincere"


def test_a_cut_free_text_field_is_unparsed_too(server):
    server.fail_next("max_tokens")
    trace = run_one(Generate(outputs=("label",)), server)
    assert trace.status == UNPARSED and "cut at max_tokens" in trace.final.outcome.error
