"""What a user sees who turns on logging: library logging only, through the real SDK and the loopback server."""

import logging

import pytest

import promptgraph as pg
from promptgraph import CachedLM, TextualGradientDescent
from promptgraph.lm import AnthropicLM
from promptgraph.testing import MessagesServer
from tests.scenario import classifier, questions, world


@pytest.fixture
def server():
    with MessagesServer(world) as running:
        yield running


def train(server, cache, **lm_options):
    lm_options = {"api_key": "test-key", "max_retries": 1, "layer_retries": 0} | lm_options
    forward = CachedLM(AnthropicLM(model="claude-haiku-5-5", base_url=server.base_url, **lm_options), directory=cache)
    strong = CachedLM(AnthropicLM(model="claude-opus-5-5", base_url=server.base_url, **lm_options), directory=cache)
    return pg.compile(
        classifier(),
        trainset=questions(40),
        lm=forward,
        optimizer=TextualGradientDescent(lm=strong),
        iterations=1,
        samples_per_label=4,
        val_per_label=4,
        progress=False,
    )


def messages(caplog, level=logging.DEBUG) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == level]


def test_at_debug_each_request_sent_shows_its_tag_and_model(server, tmp_path, caplog):
    with caplog.at_level(logging.DEBUG, logger="promptgraph"):
        train(server, tmp_path)
    sent = [line for line in messages(caplog) if line.startswith("sending a request")]
    assert len(sent) == len(server.seen)
    assert any("model=claude-haiku-5-5" in line and "tag=validate" in line for line in sent), sent
    assert any("model=claude-opus-5-5" in line for line in sent), sent


def test_at_debug_a_run_again_shows_its_requests_served_from_the_cache(server, tmp_path, caplog):
    train(server, tmp_path)
    with caplog.at_level(logging.DEBUG, logger="promptgraph"):
        train(server, tmp_path)
    hits = [line for line in messages(caplog) if line.startswith("cache hit")]
    assert hits and not [line for line in messages(caplog) if line.startswith("sending a request")]


def test_a_retry_shows_in_the_log_with_the_status_that_caused_it(server, tmp_path, caplog):
    server.fail_next("529")
    with caplog.at_level(logging.DEBUG, logger="promptgraph"):
        train(server, tmp_path)
    retried = [line for line in messages(caplog, logging.INFO) if "529" in line and "retries" in line]
    assert len(retried) == 1, retried


def test_a_clean_run_logs_nothing_at_warning_or_above(server, tmp_path, caplog):
    with caplog.at_level(logging.DEBUG, logger="promptgraph"):
        train(server, tmp_path)
    assert messages(caplog)  # it did log, below WARNING
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_the_library_leaves_the_root_logger_as_it_found_it(server, tmp_path):
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    train(server, tmp_path)
    assert (root.level, list(root.handlers)) == before


def test_a_script_that_configures_no_logging_still_sees_the_librarys_warnings_on_stderr():
    """Python prints WARNING and above when nobody configured logging, unless a library hides them: it must not."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import promptgraph as pg\n"
        "from tests.scenario import classifier, forward_lm, optimizer_lm, questions\n"
        "pg.compile(classifier(), trainset=questions(60), lm=forward_lm(), iterations=0, samples_per_label=8,\n"
        "           optimizer=pg.TextualGradientDescent(lm=optimizer_lm()), val_per_label=6, progress=False,\n"
        "           budget_usd=0.001)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "budget_usd=0.001 may not pay for iteration 0's validation" in done.stderr
