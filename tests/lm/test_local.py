"""The local backend, end to end: a real llama-server with SmolLM2, through the real SDK.

Slow by nature (a 135M model on 2 cores): the runs are kept to a few dozen requests.
"""

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from typing import Literal

import pytest

import promptgraph as pg
from promptgraph.lm.local import LocalServer, LocalServerError
from promptgraph.lm.local_setup import LocalFiles
from tests.conftest import LOCAL_FILES, requires_local

LABELS = ("sincere", "insincere")
SMALL_CRITIQUES = pg.CritiqueLimits(mistakes_per_label=2, correct_per_label=1, chars_per_field=300, max_tokens=150)
FORMAT = "Classify the question. End with Label: <label>sincere</label> or Label: <label>insincere</label>."


@pytest.fixture(scope="module")
def server():
    if LOCAL_FILES is None:
        pytest.skip("the local backend is not set up: run `promptgraph local setup`")
    with LocalServer(files=LOCAL_FILES) as running:
        yield running


# Only a bound for a hung test: each wait ends as soon as its event happens (a line printed, a process gone).
SAFETY_SECONDS = 300


def gone(pid: int, within: float = SAFETY_SECONDS) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie still answers kill(0); its state in /proc says it is dead
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def questions():
    texts = [
        ("How do I bake sourdough bread?", "sincere"),
        ("What is the best way to learn Python?", "sincere"),
        ("Which telescope should a beginner buy?", "sincere"),
        ("How far is the Moon from the Earth?", "sincere"),
        ("Why are all politicians such liars?", "insincere"),
        ("Why are people from that city so stupid?", "insincere"),
        ("Why do all rich people hate the poor?", "insincere"),
        ("Why is every teacher lazy and useless?", "insincere"),
    ]
    return [pg.Example({"text": text}, label, id=f"q{index}") for index, (text, label) in enumerate(texts * 3)]


def classifier():
    return pg.Program.of(pg.Classify(LABELS, system=FORMAT, max_tokens=64), name="classify")


@requires_local
def test_a_forward_pass_gets_real_replies_and_token_counts(server):
    ledger = pg.Ledger()
    traces = classifier().run(questions()[:8], lm=server.lm(), ledger=ledger, progress=False)
    assert all(trace.final.response_text for trace in traces)
    (account,) = ledger.accounts()
    assert account.calls == 8 and account.usage.input_tokens > 8 * 20 and account.usage.output_tokens > 0
    assert "no list price" in ledger.table()


@requires_local
def test_a_grammar_makes_the_small_model_answer_exactly_one_label(server):
    grammar = 'root ::= "Label: <label>" ("sincere" | "insincere") "</label>"'
    requests = [
        pg.Request(
            messages=[("user", example.inputs["text"])], max_tokens=64, grammar=grammar, temperature=0.0, tag="forward"
        )  # a grammar may make the model spell a label in many small tokens: 24 can cut "insincere</label>"
        for example in questions()[:4]
    ]
    replies = [server.lm().complete(request).text for request in requests]
    assert set(replies) <= {"Label: <label>sincere</label>", "Label: <label>insincere</label>"}


@requires_local
def test_a_json_schema_makes_the_small_model_answer_valid_json(server):
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": list(LABELS)}},
        "required": ["label"],
        "additionalProperties": False,
    }
    # Greedy, and room for the whitespace a grammar for JSON allows: the reply must be whole to be read.
    question = "Is this sincere? How do I bake bread?"
    request = pg.Request(messages=[("user", question)], max_tokens=200, output_schema=schema, temperature=0.0)
    reply = server.lm().complete(request)
    assert reply.stop_reason == "end_turn", reply
    assert json.loads(reply.text)["label"] in LABELS and reply.usage.output_tokens > 0


@requires_local
def test_a_tags_grammar_makes_the_small_model_write_every_field_in_its_type(server):
    # Typed fields only: their grammar bounds the reply's length, so max_tokens cannot cut it and
    # every reply must parse; free text ends when the model closes its tag, which it may never do.
    outputs = {"label": Literal[LABELS], "sure": bool, "words": int, "score": float}
    module = pg.Generate(inputs={"text": "a Quora question"}, outputs=outputs, max_tokens=160, temperature=0.0)
    traces = pg.Program.of(module, name="describe").run(questions()[:4], lm=server.lm(), progress=False)
    assert [trace.status for trace in traces] == ["ok"] * 4, [trace.final.response_text for trace in traces]


@requires_local
def test_the_local_server_is_named_by_its_model_not_its_port_so_its_cache_outlives_a_run(server):
    assert server.lm().backend == f"local:{LOCAL_FILES.model.name}"


@requires_local
def test_compile_save_load_and_predict_on_the_local_model(server, tmp_path):
    lm = server.lm()
    result = pg.compile(
        classifier(),
        trainset=questions(),
        lm=lm,
        optimizer=pg.DemoSearch(per_module=2, candidates=2, dev_per_label=2),
        iterations=1,
        samples_per_label=3,
        val_per_label=2,
        progress=False,
    )
    assert len(result.history) == 2
    loaded = pg.load(result.program.save(tmp_path / "local.json"))
    assert loaded.demo_values() == result.program.demo_values()
    assert loaded("Why are all cats so mean?", lm=lm).value in (*LABELS, None)


@requires_local
def test_textual_gradient_descent_survives_the_small_models_junk(server):
    lm = server.lm()
    result = pg.compile(
        classifier(),
        trainset=questions(),
        lm=lm,
        optimizer=pg.TextualGradientDescent(lm=lm, max_tokens=150, limits=SMALL_CRITIQUES),
        iterations=1,
        samples_per_label=2,
        val_per_label=1,
        progress=False,
    )
    # Whatever SmolLM2 wrote, the classifier's format survived: it is stated in every message, not
    # in the texts a rewrite can change, and the grammar holds every answer to a label.
    assert "<label>X</label>" in result.program.nodes["classify"].render({"text": "q"}).messages[-1].content
    assert all(record.val.unparsed == 0 for record in result.history)


@requires_local
def test_the_server_stops_when_the_block_ends_even_on_an_error():
    with pytest.raises(RuntimeError, match="boom"), LocalServer(files=LOCAL_FILES) as running:
        pid = running._process.pid
        raise RuntimeError("boom")
    assert gone(pid)


def test_a_missing_setup_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMPTGRAPH_LOCAL_DIR", str(tmp_path))
    monkeypatch.delenv("PROMPTGRAPH_LLAMA_SERVER", raising=False)
    with pytest.raises(LocalServerError, match="promptgraph local setup"):
        LocalServer().start()


def test_a_server_that_dies_at_start_reports_its_log(tmp_path):
    fake = tmp_path / "llama-server"
    fake.write_text("#!/bin/sh\necho 'error: cannot load model' >&2\nexit 3\n")
    fake.chmod(0o755)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"")
    with pytest.raises(LocalServerError, match="exited with code 3(.|\n)*cannot load model"):
        LocalServer(files=LocalFiles(server=fake, model=model)).start()


HEALTHY = """#!{python}
import http.server, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


def test_a_started_server_says_at_info_where_it_answers_and_where_its_log_is(tmp_path, caplog):
    fake = tmp_path / "llama-server"
    fake.write_text(HEALTHY.format(python=sys.executable))
    fake.chmod(0o755)
    model = tmp_path / "m.gguf"
    model.write_bytes(b"")
    with caplog.at_level(logging.INFO, logger="promptgraph.lm.local"):
        with LocalServer(files=LocalFiles(server=fake, model=model)) as running:
            url, log = running.base_url, running.log_path
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1 and url in lines[0] and str(log) in lines[0] and "m.gguf" in lines[0], lines


# SIGINT is set to act as Ctrl-C: a test run started as a background job inherits it ignored.
SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from promptgraph.lm.local import LocalServer
    from promptgraph.lm.local_setup import LocalFiles
    server = LocalServer(files=LocalFiles(server=sys.argv[1], model=sys.argv[2])).start()
    print(server._process.pid, flush=True)
    if sys.argv[3] == "sigint":
        os.kill(os.getpid(), signal.SIGINT)
    time.sleep(3600)  # until the signal: the test waits for this process to end, not for a time
    """
)


@requires_local
@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_no_server_outlives_its_process_after_sigint_or_sigkill(how):
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(LOCAL_FILES.server), str(LOCAL_FILES.model), how],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pid = int(child.stdout.readline())  # printed once the server answers its health check
        if how == "sigkill":
            child.kill()
        child.wait(timeout=SAFETY_SECONDS)
    finally:
        if child.poll() is None:  # a failed test leaves no process behind
            child.kill()
            child.wait()
    assert gone(pid), f"llama-server {pid} outlived its parent after {how}"


def test_a_local_server_repr_shows_its_changed_settings_and_no_port_before_it_runs():
    assert repr(LocalServer(threads=4)) == "LocalServer(threads=4)"
