import csv
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

import promptgraph as pg
from promptgraph.cli import main, parser
from promptgraph.cli.train import remember_arguments, resumed_arguments
from promptgraph.lm import FORWARD_MODEL
from promptgraph.testing import MessagesServer
from tests.child import promptgraph_command
from tests.messages_server import serve
from tests.scenario import FORMAT, KEY_PHRASE, forward_reply, optimizer_reply, questions

ROOT = Path(__file__).resolve().parents[2]


def reply(request):
    return optimizer_reply(request) if request.model == "scripted-opus" else forward_reply(request)


@pytest.fixture
def server():
    with serve(reply) as base_url:
        yield base_url


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "questions.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["qid", "question_text", "target"])
        for example in questions(40):
            writer.writerow([example.id, example.inputs["text"], "1" if example.label == "insincere" else "0"])
    return path


def models(server):
    return ["--base-url", server, "--model", "scripted-haiku", "--optimizer-model", "scripted-opus"]


def data_options():
    return [
        "--text-column",
        "question_text",
        "--label-column",
        "target",
        "--id-column",
        "qid",
        "--labels",
        "0=sincere,1=insincere",
    ]


def compile_to(tmp_path, server, data, *extra):
    out = tmp_path / "run"
    arguments = [
        "compile",
        str(data),
        *data_options(),
        *models(server),
        "--iterations",
        "2",
        "--samples-per-label",
        "8",
        "--val-per-label",
        "5",
        "--out",
        str(out),
    ]
    arguments += ["--system", "End with Label: <label>sincere</label> or Label: <label>insincere</label>.", *extra]
    assert main(arguments) == 0
    return out


def test_compile_writes_a_program_and_a_report_and_prints_a_summary(tmp_path, server, data, capsys):
    out = compile_to(tmp_path, server, data)
    printed = capsys.readouterr().out
    assert "<- best" in printed and "report:" in printed
    saved = json.loads((out / "program.json").read_text())
    assert KEY_PHRASE in saved["nodes"][0]["parameters"]["system"]["value"]
    assert "<html" in (out / "report" / "index.html").read_text().lower()


def test_the_report_names_the_server_the_models_and_the_optimizer_the_run_used(tmp_path, server, data):
    from tests.report.page import parse

    page = parse((compile_to(tmp_path, server, data) / "report" / "index.html").read_text())

    settings = {item.first("dt").text: item.first("dd").text for item in page.by_id("settings").all("div")}
    assert settings["backend"] == f"a Messages-API server at {server}"
    assert (settings["model"], settings["optimizer model"]) == ("scripted-haiku", "scripted-opus")
    assert settings["optimizer"].startswith("tgd: critiques and rewrites")


def test_evaluate_prints_metrics_and_the_confusion_matrix(tmp_path, server, data, capsys):
    out = compile_to(tmp_path, server, data)
    capsys.readouterr()
    arguments = [
        "evaluate",
        str(out / "program.json"),
        str(data),
        *data_options(),
        "--base-url",
        server,
        "--model",
        "scripted-haiku",
    ]
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert "accuracy 1.000" in printed
    assert "true \\ predicted" in printed


def test_predict_writes_labels_as_csv_or_jsonl(tmp_path, server, data, capsys):
    out = compile_to(tmp_path, server, data)
    capsys.readouterr()
    program = str(out / "program.json")
    common = ["--base-url", server, "--model", "scripted-haiku"]
    assert main(["predict", program, "--text", "Why are all cats mean?", "--text", "How do I knit?", *common]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [(row["label"], row["status"]) for row in rows] == [("insincere", "ok"), ("sincere", "ok")]
    target = tmp_path / "labels.jsonl"
    assert (
        main(
            [
                "predict",
                program,
                str(data),
                "--text-column",
                "question_text",
                "--id-column",
                "qid",
                "--output",
                str(target),
                *common,
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == 40 and lines[1] == {"id": "q1", "label": "insincere", "status": "ok"}


def test_a_missing_column_is_a_one_line_error(tmp_path, server, data, capsys):
    assert main(["compile", str(data), "--text-column", "body", *models(server)]) == 2
    assert "no column 'body'" in capsys.readouterr().err


def test_a_corrupted_program_is_a_one_line_error(tmp_path, server, capsys):
    broken = tmp_path / "p.json"
    broken.write_text("{")
    assert main(["predict", str(broken), "--text", "x", "--base-url", server]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_a_dry_run_prints_the_estimate_and_spends_nothing(tmp_path, data, capsys):
    out = tmp_path / "run"
    arguments = [
        "compile",
        str(data),
        *data_options(),
        "--dry-run",
        "--out",
        str(out),
        "--base-url",
        "http://127.0.0.1:9",
    ]
    assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert "critic (at most)" in printed and "USD (at most)" in printed
    assert not out.exists()


def test_a_dry_run_with_batches_prices_every_call_at_half(tmp_path, data, capsys):
    arguments = ["compile", str(data), *data_options(), "--dry-run", "--model", "claude-haiku-5-5", "--lm", "claude"]
    assert main(arguments) == 0
    plain = capsys.readouterr().out
    assert main([*arguments, "--batch"]) == 0
    batched = capsys.readouterr().out

    def total_usd(table: str) -> float:
        row = next(line for line in table.splitlines() if line.startswith("total"))
        return float(row.split()[-1])

    assert "forward (batched)" in batched
    assert total_usd(batched) == pytest.approx(total_usd(plain) / 2, abs=1e-4)


def test_batch_on_the_local_backend_is_refused_with_what_to_do(tmp_path, data, capsys):
    program = pg.Program.of(pg.Classify(["sincere", "insincere"]), name="c").save(tmp_path / "p.json")
    assert main(["predict", str(program), "--text", "x", "--lm", "local", "--batch"]) == 2
    assert "--batch needs Claude" in capsys.readouterr().err


def test_compile_with_batches_sends_every_call_in_a_batch_and_learns_the_same(tmp_path, data):
    with MessagesServer(reply) as server:
        plain = compile_to(tmp_path / "plain", server.base_url, data, "--no-cache")
        single_calls = server.statuses["ok"]
        batched = compile_to(
            tmp_path / "batched", server.base_url, data, "--no-cache", "--batch", "--poll-seconds", "0.01"
        )
        assert server.statuses["ok"] == single_calls  # nothing more went one by one
        assert server.statuses["batched"] >= single_calls
    saved = [json.loads((out / "program.json").read_text())["nodes"] for out in (plain, batched)]
    assert saved[0] == saved[1]
    assert json.loads((batched / "batches.json").read_text())["batches"]


@pytest.mark.parametrize("optimizer", ["tgd", "beam", "opro", "ape", "pareto", "demos", "knn", "tgd+demos"])
def test_every_optimizer_can_be_chosen_by_name_and_estimated(optimizer, data, capsys):
    assert main(["compile", str(data), *data_options(), "--dry-run", "--optimizer", optimizer, "--gate"]) == 0
    assert "total" in capsys.readouterr().out


@pytest.mark.parametrize("optimizer", ["beam", "pareto"])
def test_compile_with_a_search_through_the_cli_writes_the_search_into_the_report(tmp_path, server, data, optimizer):
    out = compile_to(tmp_path, server, data, "--optimizer", optimizer, "--iterations", "1")
    page = (out / "report" / "index.html").read_text()
    assert 'id="iteration-1-search"' in page


@pytest.mark.parametrize("second", ["compile", "resume"])
def test_a_second_compile_into_a_run_directory_in_use_is_refused_naming_the_one_running(tmp_path, data, second):
    out = tmp_path / "run"
    started, go_on = threading.Event(), threading.Event()

    def respond(request):
        started.set()
        go_on.wait(timeout=120)
        return reply(request)

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMPTGRAPH_CACHE_DIR": str(tmp_path / "cache")}
    with MessagesServer(respond) as server:
        first = promptgraph_command("compile", str(data), *data_options(), *models(server.base_url))
        first += ["--iterations", "1", "--samples-per-label", "4", "--val-per-label", "3", "--out", str(out)]
        running = subprocess.Popen(first, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert started.wait(timeout=120), "the first compile never sent a request"
            again = first if second == "compile" else promptgraph_command("compile", "--resume", str(out))
            refused = subprocess.run(again, env=env, capture_output=True, text=True, timeout=120)
            settings = (out / "command.json").read_text()
        finally:
            go_on.set()
            _, errors = running.communicate(timeout=120)
    assert refused.returncode != 0
    assert f"the run directory {out} is in use by pid {running.pid} on " in refused.stderr
    assert running.returncode == 0, errors
    assert (out / "command.json").read_text() == settings
    assert not (out / "run.lock").exists()


def test_evaluate_on_another_server_asks_that_server_not_the_cache(tmp_path, data, capsys, monkeypatch):
    monkeypatch.setenv("PROMPTGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    classify = pg.Classify(["sincere", "insincere"], system=FORMAT)
    program = pg.Program.of(classify, name="classify").save(tmp_path / "program.json")
    evaluate = ["evaluate", str(program), str(data), *data_options(), "--model", "scripted-haiku"]
    with (
        MessagesServer(lambda request: "I cannot help with that.") as refusing,
        MessagesServer(forward_reply) as answering,
    ):
        assert main([*evaluate, "--base-url", refusing.base_url]) == 0
        capsys.readouterr()
        assert main([*evaluate, "--base-url", answering.base_url]) == 0
        assert len(answering.seen) == 40
    assert "unparsed 0/40" in capsys.readouterr().out


def test_a_cache_dir_that_is_a_file_is_a_one_line_error(tmp_path, server, data, capsys):
    (tmp_path / "cache").write_text("not a directory")
    program = pg.Program.of(pg.Classify(["sincere", "insincere"], system=FORMAT), name="c").save(tmp_path / "p.json")
    evaluate = ["evaluate", str(program), str(data), *data_options(), "--base-url", server]
    assert main([*evaluate, "--cache-dir", str(tmp_path / "cache")]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "key", "value"),
    [
        (["--max-consecutive-failures", "50"], "max_consecutive_failures", 50),  # as the breaker's message advises
        (["--max-failure-rate", "0.9"], "max_failure_rate", 0.9),
        (["--max-failure-rate", "0"], "max_failure_rate", 0.0),
        (["--trust-code"], "trust_code", True),
    ],
)
def test_resume_takes_the_patience_and_trust_options_given_with_it(tmp_path, data, given, key, value):
    out = tmp_path / "run"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    started = ["compile", str(data), "--out", str(out), "--max-consecutive-failures", "30", *cache]
    remember_arguments(parser().parse_args(started), out)
    again = parser().parse_args(["compile", "--resume", str(out), *cache, *given])
    assert getattr(resumed_arguments(again), key) == value
    as_started = resumed_arguments(parser().parse_args(["compile", "--resume", str(out), *cache]))
    assert (as_started.max_consecutive_failures, as_started.trust_code) == (30, False)  # not this command's defaults


def test_a_compile_refused_for_its_cache_dir_leaves_no_run_directory(tmp_path, server, data, capsys):
    (tmp_path / "cache").write_text("not a directory")
    out = tmp_path / "run"
    compile_ = ["compile", str(data), *data_options(), *models(server), "--out", str(out)]
    assert main([*compile_, "--cache-dir", str(tmp_path / "cache")]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert not out.exists()


def test_resuming_a_run_that_has_no_checkpoint_is_refused_before_any_request(tmp_path, data, capsys):
    out = tmp_path / "run"
    with MessagesServer(reply) as server:
        started = ["compile", str(data), *data_options(), *models(server.base_url), "--out", str(out)]
        # A run that stopped before its first checkpoint leaves only its command.json.
        remember_arguments(parser().parse_args([*started, "--cache-dir", str(tmp_path / "cache")]), out)
        assert main(["compile", "--resume", str(out), "--base-url", server.base_url]) == 2
        assert not server.probes and not server.seen
    assert "nothing to resume" in capsys.readouterr().err


def test_effort_flags_reach_the_programs_calls_and_the_optimizers(tmp_path, data):
    with MessagesServer(reply) as running:
        compile_to(tmp_path, running.base_url, data, "--effort", "medium", "--optimizer-effort", "low", "--no-cache")
    efforts: dict[str, set] = {}
    for request in running.seen:
        efforts.setdefault(request.tag, set()).add(request.effort)
    assert efforts["forward"] == efforts["validate"] == {"medium"}
    assert efforts["critic"] == efforts["rewrite"] == {"low"}


def test_without_flags_the_program_asks_low_effort_and_the_optimizer_high(tmp_path, data):
    with MessagesServer(reply) as running:
        compile_to(tmp_path, running.base_url, data, "--no-cache")
    assert {request.effort for request in running.seen if request.tag == "validate"} == {"low"}
    assert {request.temperature for request in running.seen if request.tag == "validate"} == {0.0}  # greedy
    assert {request.effort for request in running.seen if request.tag == "critic"} == {"high"}


@pytest.mark.parametrize("backend", [["--lm", "local"], ["--lm", "claude"], []])
def test_a_new_classifier_has_one_max_tokens_default_on_every_backend_the_one_help_states(backend, data, capsys):
    from promptgraph.cli import parser
    from promptgraph.cli.train import build_program

    arguments = parser().parse_args(["compile", str(data), *data_options(), *backend])
    classify = build_program(arguments, []).nodes["classify"]
    assert classify.max_tokens == pg.Classify(["a", "b"]).max_tokens == 400
    with pytest.raises(SystemExit):
        parser().parse_args(["compile", "--help"])
    assert "default 400, as pg.Classify's" in " ".join(capsys.readouterr().out.split())


def test_thinking_reaches_every_call_of_the_program_and_is_saved_with_it(tmp_path, data):
    with MessagesServer(reply) as running:
        out = compile_to(tmp_path, running.base_url, data, "--thinking", "2048", "--max-tokens", "4096", "--no-cache")
    assert {request.thinking for request in running.seen if request.tag in ("forward", "validate")} == {2048}
    assert {request.thinking for request in running.seen if request.tag in ("critic", "rewrite")} == {None}
    assert pg.load(out / "program.json").nodes["classify"].thinking == 2048


def test_thinking_none_sends_no_thinking_setting_for_a_program_that_has_one(tmp_path, data):
    program = pg.Program.of(pg.Classify(["sincere", "insincere"], thinking="adaptive"), name="classify")
    program.save(tmp_path / "thinks.json")
    with MessagesServer(reply) as running:
        compile_to(tmp_path, running.base_url, data, "--program", str(tmp_path / "thinks.json"), "--thinking", "none")
    assert {request.thinking for request in running.seen if request.tag in ("forward", "validate")} == {None}


def test_temperature_reaches_every_call_of_the_program_and_is_saved_with_it(tmp_path, data):
    with MessagesServer(reply) as running:
        out = compile_to(tmp_path, running.base_url, data, "--temperature", "0.7", "--no-cache")
    assert {request.temperature for request in running.seen if request.tag in ("forward", "validate")} == {0.7}
    assert {request.temperature for request in running.seen if request.tag in ("critic", "rewrite")} == {None}
    assert pg.load(out / "program.json").nodes["classify"].temperature == 0.7


def test_max_metric_calls_reaches_compile_and_is_remembered_for_a_resume(tmp_path, server, data, capsys):
    out = tmp_path / "run"
    arguments = ["compile", str(data), *data_options(), *models(server), "--samples-per-label", "8"]
    arguments += ["--val-per-label", "5", "--max-metric-calls", "50", "--out", str(out), "--no-cache"]
    assert main(arguments) == 0  # no --iterations: until the budget is spent
    assert "stopped early: max_metric_calls: spent 36 of 50; iteration 2 could take up to 26 more" in (
        capsys.readouterr().out
    )
    assert json.loads((out / "program.json").read_text())["meta"]["history"][-1]["rollouts"] == 36
    assert json.loads((out / "command.json").read_text())["max_metric_calls"] == 50


def forward_calls(table: str) -> int:
    rows = [line.split(FORWARD_MODEL, 1)[1].split() for line in table.splitlines() if FORWARD_MODEL in line]
    return sum(int(row[0]) for row in rows)


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_max_metric_calls_that_pays_for_no_iteration_is_refused_before_the_run_directory(
    tmp_path, server, data, capsys, dry_run
):
    out = tmp_path / "run"
    arguments = ["compile", str(data), *data_options(), *models(server), "--samples-per-label", "8"]
    arguments += ["--val-per-label", "5", "--max-metric-calls", "20", "--out", str(out), "--no-cache", *dry_run]
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert "--max-metric-calls=20 (20 forward calls) pays for iteration 0's validation (10 calls)" in error
    assert "raise it to at least" in error
    assert not out.exists()


def test_a_budget_usd_the_first_validation_may_pass_is_said_in_one_warning_before_the_run(tmp_path, data, capsys):
    out = tmp_path / "run"
    with serve(reply) as base_url:
        arguments = ["compile", str(data), *data_options(), "--base-url", base_url, "--model", "claude-haiku-5-5"]
        arguments += ["--optimizer-model", "scripted-opus", "--samples-per-label", "8", "--val-per-label", "5"]
        main([*arguments, "--budget-usd", "0.000001", "--iterations", "1", "--out", str(out), "--no-cache"])
    error = capsys.readouterr().err
    said = [line for line in error.splitlines() if "iteration 0's validation" in line]
    assert len(said) == 1 and said[0].startswith("promptgraph: warning: --budget-usd=1e-06 may not pay")


def test_a_dry_run_prices_only_the_iterations_max_metric_calls_pays_for(data, capsys):
    arguments = ["compile", str(data), *data_options(), "--dry-run", "--lm", "claude"]
    assert main([*arguments, "--max-metric-calls", "light"]) == 0
    assert 0 < forward_calls(capsys.readouterr().out) <= 8 * 20  # light: 8 passes of 20 held-out examples


def test_a_dry_run_caps_the_forward_calls_at_max_metric_calls(data, capsys):
    arguments = ["compile", str(data), *data_options(), "--dry-run", "--iterations", "9", "--lm", "claude"]
    assert main([*arguments, "--max-metric-calls", "100"]) == 0
    table = capsys.readouterr().out
    assert forward_calls(table) <= 100 and "capped by max_metric_calls" in table
    assert main(arguments) == 0
    assert forward_calls(capsys.readouterr().out) > 100


@pytest.mark.parametrize("given", [["--max-metric-calls", "lots"], ["--max-metric-calls", "0"]])
def test_a_max_metric_calls_that_is_not_a_budget_is_refused(data, capsys, given):
    with pytest.raises(SystemExit) as exit:
        main(["compile", str(data), *data_options(), "--dry-run", *given])
    assert exit.value.code == 2
    assert "light, medium, heavy" in capsys.readouterr().err


def test_max_metric_calls_with_batch_counts_the_batched_calls_and_stops_where_threads_would(tmp_path, data, capsys):
    with MessagesServer(reply) as running:
        arguments = ["compile", str(data), *data_options(), *models(running.base_url), "--samples-per-label", "8"]
        arguments += ["--val-per-label", "5", "--max-metric-calls", "50", "--no-cache", "--batch"]
        assert main([*arguments, "--poll-seconds", "0.01", "--out", str(tmp_path / "run")]) == 0
        assert running.batches  # the forward calls went through Message Batches
    assert "stopped early: max_metric_calls: spent 36 of 50; iteration 2 could take up to 26 more" in (
        capsys.readouterr().out
    )


def test_pareto_runs_from_the_cli_in_small_steps_until_its_call_budget_is_spent(tmp_path, server, data, capsys):
    out = tmp_path / "run"
    arguments = ["compile", str(data), *data_options(), *models(server), "--optimizer", "pareto"]
    arguments += ["--val-per-label", "5", "--max-metric-calls", "120", "--out", str(out), "--no-cache"]
    assert main(arguments) == 0
    assert "stopped early: max_metric_calls: spent" in capsys.readouterr().out
    history = json.loads((out / "program.json").read_text())["meta"]["history"]
    assert len(history) > 3 and history[-1]["rollouts"] <= 120  # many small steps, never past the budget
    assert [len(record["train"]["scores"]) for record in history[1:]] == [6] * (len(history) - 1)


def test_the_local_backend_retrieves_demos_by_default_and_claude_rewrites_prompts():
    """On the local model KNNDemos measured best of what needs no strong model (benchmarks/README.md)."""
    from promptgraph.cli.train import choose_optimizer

    arguments = parser().parse_args(["compile", "data.csv"])  # every option at its default
    assert isinstance(choose_optimizer(arguments, "local", strong=None), pg.KNNDemos)
    assert isinstance(
        choose_optimizer(arguments, "claude", strong=pg.ScriptedLM(respond=str)), pg.TextualGradientDescent
    )


def test_a_dry_run_of_a_resume_prices_what_is_left_and_sends_nothing(tmp_path, server, data, capsys):
    out = compile_to(tmp_path, server, data)
    before = (out / "checkpoint.json").read_bytes()
    capsys.readouterr()
    with MessagesServer(reply) as running:
        assert (
            main(["compile", "--resume", str(out), "--iterations", "4", "--dry-run", "--base-url", running.base_url])
            == 0
        )
        assert not running.seen and not running.probes
    printed = capsys.readouterr().out
    assert "resuming at iteration 3 of 4" in printed and "critic (at most)" in printed
    assert (out / "checkpoint.json").read_bytes() == before


def test_a_budget_given_with_resume_is_remembered_for_the_next_resume(tmp_path, server, data):
    out = compile_to(tmp_path, server, data, "--max-metric-calls", "300")
    assert main(["compile", "--resume", str(out), "--max-metric-calls", "400", "--base-url", server]) == 0
    assert json.loads((out / "command.json").read_text())["max_metric_calls"] == 400


def test_a_resume_with_a_budget_already_spent_is_refused_before_any_request(tmp_path, server, data, capsys):
    out = compile_to(tmp_path, server, data, "--max-metric-calls", "300")
    spent = json.loads((out / "checkpoint.json").read_text())["history"][-1]["rollouts"]
    with MessagesServer(reply) as running:
        resume = ["compile", "--resume", str(out), "--max-metric-calls", "10", "--base-url", running.base_url]
        assert main(resume) == 2
        assert not running.seen and not running.probes
    assert (
        f"--max-metric-calls 10 (10 calls): the run has already sent {spent} forward calls" in capsys.readouterr().err
    )


@pytest.mark.parametrize("budget", ["light", "next"])
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_resume_with_no_room_for_one_more_iteration_is_refused_saying_what_would_do(
    tmp_path, server, data, capsys, budget, dry_run
):
    out = compile_to(tmp_path, server, data, "--max-metric-calls", "1000", "--iterations", "3")
    spent = json.loads((out / "checkpoint.json").read_text())["history"][-1]["rollouts"]
    given = str(spent + 1) if budget == "next" else budget  # light: 8 passes of 10, no room left after 3 iterations
    capsys.readouterr()
    with MessagesServer(reply) as running:
        resume = ["compile", "--resume", str(out), "--iterations", "5", "--max-metric-calls", given, *dry_run]
        assert main([*resume, "--base-url", running.base_url]) == 2
        assert not running.seen and not running.probes
    error = capsys.readouterr().err
    assert f"the run has already sent {spent} forward calls" in error and "give at least" in error


def test_a_resume_may_say_another_log_level(tmp_path, server, data):
    out = compile_to(tmp_path, server, data)
    assert (
        main(["--log-level", "info", "compile", "--resume", str(out), "--iterations", "3", "--base-url", server]) == 0
    )


def test_where_a_resumes_calls_go_is_for_that_resume_alone(tmp_path, server, data):
    out = compile_to(tmp_path, server, data)
    before = json.loads((out / "command.json").read_text())
    assert main(["compile", "--resume", str(out), "--iterations", "3", "--base-url", server, "--no-cache"]) == 0
    after = json.loads((out / "command.json").read_text())
    assert (after["no_cache"], after["base_url"], after["iterations"]) == (before["no_cache"], before["base_url"], 3)


def test_a_setting_a_resume_cannot_change_is_refused_not_ignored(tmp_path, server, data, capsys):
    out = compile_to(tmp_path, server, data)
    with MessagesServer(reply) as running:
        resume = ["compile", "--resume", str(out), "--optimizer", "beam", "--samples-per-label", "3"]
        assert main([*resume, "--base-url", running.base_url]) == 2
        assert not running.seen and not running.probes
    error = capsys.readouterr().err
    assert "--optimizer beam" in error and "--samples-per-label 3" in error and "--out" in error


def optimizer_calls(table: str, phase: str) -> int:
    row = next(line for line in table.splitlines() if line.startswith(phase))
    return int(row.split("scripted-opus", 1)[1].split()[0])


def test_under_a_budget_the_dry_runs_optimizer_calls_are_an_upper_bound_on_the_runs(tmp_path, data, capsys):
    out = tmp_path / "run"
    arguments = ["compile", str(data), *data_options(), "--optimizer", "pareto", "--samples-per-label", "8"]
    arguments += ["--val-per-label", "5", "--max-metric-calls", "200", "--no-cache"]

    # The forward model says "sincere" whatever the prompt: no child fixes anything, so every step is as cheap as
    # a step can be (a minibatch, no held-out test, no validation) and the budget pays for the most steps.
    def stubborn(request):
        return optimizer_reply(request) if request.model == "scripted-opus" else "Label: <label>sincere</label>"

    with MessagesServer(stubborn) as running:
        assert main([*arguments, *models(running.base_url), "--dry-run"]) == 0
        table = capsys.readouterr().out
        assert main([*arguments, *models(running.base_url), "--out", str(out)]) == 0
    critics = sum(request.tag == "critic" for request in running.seen)
    assert critics > 0 and optimizer_calls(table, "critic (at most)") >= critics
