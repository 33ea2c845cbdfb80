"""Training survives faults and bad input, through the loopback server and the real SDK."""

import json
import logging
import os
import signal
import subprocess
import threading
from pathlib import Path

import attrs
import pytest

import promptgraph as pg
from promptgraph import CachedLM, TextualGradientDescent
from promptgraph.cli import main
from promptgraph.compile import TrainingError
from promptgraph.lm import AnthropicLM
from promptgraph.testing import MessagesServer
from tests.child import promptgraph_command
from tests.scenario import FORMAT, KEY_PHRASE, classifier, questions, world

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sk-ant-api03-TOPSECRET-do-not-leak-0123456789"


@pytest.fixture
def server():
    with MessagesServer(world) as running:
        yield running


def models(server, cache=None, **options):
    options = {"api_key": "test-key", "max_retries": 1, "layer_retries": 0, "retry_wait": 0.01} | options
    forward = AnthropicLM(model="claude-haiku-5-5", base_url=server.base_url, **options)
    strong = AnthropicLM(model="claude-opus-5-5", base_url=server.base_url, **options)
    if cache is not None:
        forward, strong = CachedLM(forward, directory=cache), CachedLM(strong, directory=cache)
    return forward, strong


def train(server, *, cache=None, lm_options=None, **options):
    forward, strong = models(server, cache, **(lm_options or {}))
    options = {"iterations": 2, "samples_per_label": 6, "val_per_label": 4, "progress": False} | options
    return pg.compile(
        options.pop("program", None) or classifier(""),
        trainset=options.pop("trainset", None) or questions(40),
        lm=forward,
        optimizer=TextualGradientDescent(lm=strong),
        **options,
    )


def test_too_many_failed_forward_calls_stop_training_with_a_clear_error(server):
    server.fail_next("500", times=1000)
    with pytest.raises(TrainingError, match=r"8 of 8 validate calls failed .* rather than learn from garbage"):
        train(server, lm_options={"max_retries": 0})


def test_a_budget_stops_before_the_iteration_that_would_exceed_it_and_says_what_was_spent(server):
    unlimited = train(server, iterations=3, program=classifier("x"))
    budget = unlimited.history[2].usd + (unlimited.history[3].usd - unlimited.history[2].usd) / 2
    result = train(server, iterations=3, program=classifier("x"), budget_usd=budget)
    assert len(result.history) < 4
    assert result.ledger.usd <= budget
    assert result.stopped.startswith(f"budget: spent ${result.ledger.usd:.4f} of ${budget:.4f}")


def test_after_the_first_iteration_the_estimate_is_the_last_iterations_cost():
    from promptgraph.compile import _next_cost

    history = [
        pg.IterationRecord(iteration=i, values={}, val=pg.evaluate([]), usd=usd)
        for i, usd in enumerate((0.1, 0.5, 0.8))
    ]
    assert _next_cost(history) == pytest.approx(0.3)


def test_every_iteration_leaves_a_checkpoint_and_resuming_ends_like_an_uninterrupted_run(server, tmp_path):
    whole = train(server, iterations=3, cache=tmp_path / "cache-a")
    train(server, iterations=1, cache=tmp_path / "cache-b", run_dir=tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    assert saved["iteration"] == 1 and len(saved["history"]) == 2
    resumed = train(server, iterations=3, cache=tmp_path / "cache-b", run_dir=tmp_path / "run", resume=True)
    assert resumed.program.values() == whole.program.values()
    assert [r.val.score for r in resumed.history] == [r.val.score for r in whole.history]
    assert resumed.history[1].critiques == whole.history[1].critiques


def test_resuming_a_different_run_is_refused(server, tmp_path):
    train(server, iterations=1, run_dir=tmp_path / "run")
    with pytest.raises(ValueError, match="other settings or data"):
        train(server, iterations=2, run_dir=tmp_path / "run", resume=True, seed=9)


# Only a bound for a hung test: every wait below ends on an event (a request logged, a process gone).
SAFETY_SECONDS = 600
KILL_AT = 6 + 8 + 2 + 6 + 3  # validation, forward, critic + rewrite, validation, then 3 into iteration 2
OPTIONS = ["--iterations", "3", "--samples-per-label", "4", "--val-per-label", "3", "--max-concurrency", "1"]
OPTIONS += ["--model", "claude-haiku-5-5", "--optimizer-model", "claude-opus-5-5", "--system", FORMAT]


@attrs.define
class Interrupted:
    """A compile killed while the server holds its KILL_AT-th request, as seen by that server."""

    tmp_path: Path
    server: MessagesServer | None = None
    answered: list[str] = attrs.field(factory=list)  # each request answered, in order
    first_run: list[str] = attrs.field(factory=list)  # what the killed run was answered
    child: subprocess.Popen | None = None
    holding: threading.Event = attrs.field(factory=threading.Event)  # the request to be cut off has arrived
    gone: threading.Event = attrs.field(factory=threading.Event)  # the child is dead: let that request go

    def respond(self, request):
        if self.child is not None and not self.gone.is_set() and len(self.answered) == KILL_AT - 1:
            self.holding.set()
            self.gone.wait(SAFETY_SECONDS)
            return "never delivered"
        reply = world(request)
        self.answered.append(request.system + "|" + request.messages[-1].content)
        return reply

    def command(self, *arguments: str) -> list[str]:
        return promptgraph_command(*arguments, "--base-url", self.server.base_url)

    def kill_compile(self, how: signal.Signals, env: dict) -> None:
        data = self.tmp_path / "q.csv"
        data.write_text("qid,text,label\n" + "".join(f"{e.id},{e.inputs['text']},{e.label}\n" for e in questions(40)))
        command = self.command("compile", str(data), "--out", str(self.tmp_path / "run"), *OPTIONS)
        self.child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while not self.holding.wait(0.1):  # the event, or a child that ended before it (the test fails below)
            if self.child.poll() is not None:
                break
        self.child.send_signal(how)
        _, stderr = self.child.communicate(timeout=SAFETY_SECONDS)
        self.gone.set()
        assert self.holding.is_set(), stderr  # it was killed mid-pass, not finished or crashed
        assert self.child.returncode != 0  # it really was interrupted
        assert json.loads((self.tmp_path / "run" / "checkpoint.json").read_text())["iteration"] == 1
        self.first_run = list(self.answered)
        self.answered.clear()

    def resume(self, env: dict, *options: str) -> subprocess.CompletedProcess:
        command = self.command("compile", "--resume", str(self.tmp_path / "run"), *options)
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=SAFETY_SECONDS)
        assert finished.returncode == 0, finished.stderr
        return finished

    def compile_whole(self, env: dict) -> dict:
        data = self.tmp_path / "q.csv"
        command = self.command("compile", str(data), "--out", str(self.tmp_path / "whole"), *OPTIONS)
        subprocess.run(command, env=env, capture_output=True, text=True, timeout=SAFETY_SECONDS, check=True)
        return json.loads((self.tmp_path / "whole" / "program.json").read_text())


@pytest.fixture
def interrupted(tmp_path):
    run = Interrupted(tmp_path)
    with MessagesServer(run.respond) as server:
        run.server = server
        yield run
        run.gone.set()  # never leave a server thread waiting on a test that failed


def environment(cache: Path) -> dict:
    return {**os.environ, "PROMPTGRAPH_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}


def spent(program: dict) -> dict:
    """(calls, input tokens, output tokens) per model and tag, from a saved program's ledger."""
    return {
        (a["model"], a["tag"]): (a["calls"], a["usage"]["input_tokens"], a["usage"]["output_tokens"])
        for a in program["meta"]["cost"]["accounts"]
    }


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_killing_a_compile_mid_forward_pass_and_resuming_resends_nothing_answered(interrupted, tmp_path, how):
    interrupted.kill_compile(how, environment(tmp_path / "cache"))
    interrupted.resume(environment(tmp_path / "cache"))
    assert not set(interrupted.answered) & set(interrupted.first_run)  # nothing already answered was sent again
    uninterrupted = interrupted.compile_whole(environment(tmp_path / "cache-whole"))
    resumed = json.loads((tmp_path / "run" / "program.json").read_text())
    assert resumed["nodes"] == uninterrupted["nodes"]
    assert KEY_PHRASE in resumed["nodes"][0]["parameters"]["system"]["value"]


def test_after_a_kill_and_resume_the_ledger_counts_every_call_the_server_answered(interrupted, tmp_path):
    interrupted.kill_compile(signal.SIGKILL, environment(tmp_path / "cache"))
    interrupted.resume(environment(tmp_path / "cache"))
    served = len(interrupted.first_run) + len(interrupted.answered)
    resumed = json.loads((tmp_path / "run" / "program.json").read_text())
    assert sum(calls for calls, _, _ in spent(resumed).values()) == served
    uninterrupted = interrupted.compile_whole(environment(tmp_path / "cache-whole"))
    assert spent(resumed) == spent(uninterrupted)  # tokens too, per model and tag


def test_resuming_uses_the_runs_cache_directory_whatever_the_environment_says(interrupted, tmp_path):
    interrupted.kill_compile(signal.SIGKILL, environment(tmp_path / "cache"))
    finished = interrupted.resume(environment(tmp_path / "elsewhere"))
    assert not set(interrupted.answered) & set(interrupted.first_run)  # nothing paid for again
    warning = [line for line in finished.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and str(tmp_path / "cache") in warning[0] and str(tmp_path / "elsewhere") in warning[0]


def test_resuming_with_another_cache_dir_asked_for_uses_it_and_says_so(interrupted, tmp_path):
    interrupted.kill_compile(signal.SIGKILL, environment(tmp_path / "cache"))
    finished = interrupted.resume(environment(tmp_path / "cache"), "--cache-dir", str(tmp_path / "fresh"))
    assert set(interrupted.answered) & set(interrupted.first_run)  # the new cache held none of their answers
    assert (tmp_path / "fresh").is_dir()
    warning = [line for line in finished.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and str(tmp_path / "cache") in warning[0] and str(tmp_path / "fresh") in warning[0]


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("no json at all", "holds no JSON"),
        ('{"values": {"classify.system": "Just answer"}', '"values" must be an object'),  # cut short: invalid JSON
        (json.dumps({"values": {"classify.system": "Just answer."}}), "<label>X</label>"),  # drops the format
        ("", "holds no JSON"),
        (json.dumps({"values": {"classify.system": f"{FORMAT} " + "x" * 50_000}}), "keep it under 10,000"),
        (json.dumps({"values": {"classify.system": ""}}), "would be emptied"),
    ],
)
def test_malformed_rewrites_are_refused_and_the_reason_is_kept(reply, reason):
    def respond(request):
        if request.tag == "rewrite":
            return reply
        return world(request)

    with MessagesServer(respond) as bad:
        result = train(bad, program=classifier(FORMAT), iterations=1)
    update = result.history[1].updates[0]
    assert update.status == "rejected" and reason in update.error
    assert result.program.values()["classify.system"] == FORMAT


def test_bad_input_names_the_file_and_line_and_writes_nothing(tmp_path, capsys):
    data = tmp_path / "q.csv"
    data.write_bytes(b"text,label\nfine,sincere\ncaf\xe9,insincere\n")
    assert main(["compile", str(data), "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "out")]) == 2
    assert "q.csv line 3 is not UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_label_with_one_example_cannot_be_split_for_validation(server):
    lonely = questions(20) + [pg.Example({"text": "x"}, "spam")]
    with pytest.raises(pg.DataError, match="label 'spam' has only 1 example"):
        train(server, trainset=lonely, program=pg.Program.of(pg.Classify(["sincere", "insincere", "spam"]), name="c"))


def test_quotes_and_newlines_inside_a_field_load_as_written(tmp_path):
    data = tmp_path / "q.csv"
    data.write_text('text,label\n"He said ""why?""\nand left",insincere\nplain,sincere\n')
    (first, _) = pg.load_examples(data)
    assert first.inputs["text"] == 'He said "why?"\nand left'


def test_a_huge_field_is_cut_for_the_prompt_with_a_warning(server):
    huge = pg.Example({"text": "Why are all " + "very " * 200_000 + "people bad?"}, "insincere")
    forward, _ = models(server)
    with pytest.warns(UserWarning, match="cut to that length"):
        classifier(FORMAT).run([huge], lm=forward, progress=False)
    assert len(server.seen[-1].messages[-1].content) < 21_000


def test_the_api_key_never_appears_in_reports_files_logs_or_errors(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with MessagesServer(world) as server:
        server.fail_next("429")
        options = {"base_url": server.base_url, "api_key": SECRET, "max_retries": 1, "layer_retries": 0}
        forward = AnthropicLM(model="claude-haiku-5-5", **options)
        strong = AnthropicLM(model="claude-opus-5-5", **options)
        result = pg.compile(
            classifier(""), trainset=questions(30), lm=forward, optimizer=TextualGradientDescent(lm=strong),
            iterations=1, samples_per_label=4, val_per_label=3, progress=False,
            run_dir=tmp_path / "run", on_iteration=pg.ReportWriter(tmp_path / "report"),
        )  # fmt: skip
        result.program.save(tmp_path / "program.json")
        server.fail_next("500", times=10)
        with pytest.raises(pg.LMError) as caught:
            forward.complete(pg.Request(messages=[("user", "x")]))
    written = "".join(path.read_text(errors="replace") for path in tmp_path.rglob("*") if path.is_file())
    shown = written + caplog.text + str(caught.value) + repr(forward) + repr(caught.value.__cause__)
    assert SECRET not in shown
    assert "TOPSECRET" not in shown


def test_two_compiles_sharing_one_cache_directory_both_finish_correctly(server, tmp_path):
    results = {}

    def run(name, seed):
        results[name] = train(server, cache=tmp_path / "shared-cache", seed=seed, iterations=2)

    threads = [threading.Thread(target=run, args=(f"run{seed}", seed)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    alone = train(server, cache=tmp_path / "own-cache", seed=1, iterations=2)
    assert results["run1"].program.values() == alone.program.values()
    assert all(KEY_PHRASE in r.program.values()["classify.system"] for r in results.values())


def test_ctrl_c_before_the_first_checkpoint_does_not_offer_a_resume_that_cannot_work(tmp_path):
    arrived, release = threading.Event(), threading.Event()

    def respond(request):
        arrived.set()
        release.wait(SAFETY_SECONDS)
        return "never delivered"

    data = tmp_path / "q.csv"
    data.write_text("qid,text,label\n" + "".join(f"{e.id},{e.inputs['text']},{e.label}\n" for e in questions(40)))
    with MessagesServer(respond) as server:
        command = promptgraph_command("compile", str(data), "--out", str(tmp_path / "run"), *OPTIONS)
        command += ["--base-url", server.base_url]
        env = environment(tmp_path / "cache")
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            while not arrived.wait(0.1):  # the first forward call (after the probe), or a child that ended
                if child.poll() is not None:
                    break
            child.send_signal(signal.SIGINT)
            _, stderr = child.communicate(timeout=SAFETY_SECONDS)
        finally:
            release.set()
    assert arrived.is_set(), stderr
    assert child.returncode == 130
    assert "--resume" not in stderr
    assert "promptgraph: interrupted before the first iteration finished" in stderr


def test_debug_logs_of_a_compile_name_the_server_but_never_the_api_key(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="promptgraph")
    with MessagesServer(world) as server:
        server.fail_next("529")
        url = server.base_url
        options = {"base_url": url, "api_key": SECRET, "max_retries": 0, "layer_retries": 1, "retry_wait": 0.01}
        forward = CachedLM(AnthropicLM(model="claude-haiku-5-5", **options), directory=tmp_path)
        pg.compile(
            classifier(""), trainset=questions(30), lm=forward,
            optimizer=TextualGradientDescent(lm=AnthropicLM(model="claude-opus-5-5", **options)),
            iterations=1, samples_per_label=4, val_per_label=3, progress=False,
        )  # fmt: skip
    records = caplog.records
    assert any(url in r.getMessage() for r in records)
    assert any("again in" in r.getMessage() for r in records)  # a retry was logged too
    for record in records:
        assert "TOPSECRET" not in record.getMessage() and "TOPSECRET" not in str(record.__dict__)
