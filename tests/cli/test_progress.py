"""What `promptgraph compile` prints while it runs and when it ends."""

import os
import subprocess
import threading
from pathlib import Path

from promptgraph.cli import main
from promptgraph.cli.train import compile_summary, finished_line
from promptgraph.testing import MessagesServer
from tests.child import promptgraph_command
from tests.cli.test_train import compile_to, data, data_options, models, reply, server  # noqa: F401  # fixtures
from tests.scenario import FORMAT, KEY_PHRASE, undoing_run

ROOT = Path(__file__).resolve().parents[2]
HOLD_SECONDS = 120  # only reached when the lines do not come as they happen: the test then fails


def test_piped_output_shows_each_iteration_while_the_run_still_goes_on(tmp_path, data):  # noqa: F811
    """The line for iteration 1 is read from the child's pipe while the server still holds iteration 2's calls."""
    release, rewritten, held_too_long = threading.Event(), threading.Event(), threading.Event()

    def respond(request):
        if request.tag == "rewrite":
            rewritten.set()
        elif request.tag == "forward" and rewritten.is_set() and not release.wait(timeout=HOLD_SECONDS):
            held_too_long.set()  # iteration 2's minibatch: held until the test has read iteration 1's line
        return reply(request)

    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMPTGRAPH_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("PYTHONUNBUFFERED", None)  # a pipe is block-buffered, as for any user; the lines must be flushed
    with MessagesServer(respond) as server:  # noqa: F811
        command = promptgraph_command("compile", str(data), *data_options(), *models(server.base_url))
        command += ["--iterations", "2", "--samples-per-label", "4", "--val-per-label", "3"]
        command += ["--system", FORMAT, "--out", str(tmp_path / "run")]
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            seen = []
            for line in child.stdout:
                seen.append(line.rstrip("\n"))
                if line.startswith("iteration 1/2: validation"):
                    break
            still_running = child.poll() is None and not held_too_long.is_set()
        finally:
            release.set()
            rest, errors = child.communicate(timeout=HOLD_SECONDS)
    assert seen[-1].startswith("iteration 1/2: validation 1.000 (+"), (seen, errors)
    assert still_running, "the iteration lines came only when the run ended"
    assert "iteration 1/2: the optimizer model (scripted-opus) is writing critiques" in seen
    assert seen[0] == "iteration 0/2: validating the program as given"  # before the pass, not after it
    assert seen[1].startswith("iteration 0/2: validation")
    assert child.returncode == 0, errors
    assert "iteration 2/2: validation" in rest and "finished in " in rest


def test_a_resumed_compile_says_where_it_resumes(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    capsys.readouterr()
    assert main(["compile", "--resume", str(out), "--iterations", "3"]) == 0
    assert capsys.readouterr().out.startswith("resuming at iteration 3 of 3\niteration 3/3: validation")


def test_when_no_iteration_beats_the_first_the_summary_says_the_saved_program_is_the_starting_one(
    tmp_path,
    server,  # noqa: F811
    data,  # noqa: F811
    capsys,
):
    compile_to(tmp_path, server, data, "--system", f"{KEY_PHRASE} {FORMAT}")  # right from the start
    printed = capsys.readouterr().out
    assert "the saved program is the starting one" in printed
    assert "finished in " in printed


def test_the_summary_marks_undone_iterations_and_counts_them():
    result = undoing_run(iterations=2)
    rows = compile_summary(result, Path("program.json"), Path("report.html")).splitlines()
    assert rows[2].endswith("<- best") and rows[3].endswith("undone")
    assert finished_line(result, "3s") == "finished in 3s; 1 undone (lost on validation)"


def test_the_summary_says_unknown_for_the_cost_of_unpriced_models_not_zero(tmp_path, server, data, capsys):  # noqa: F811
    compile_to(tmp_path, server, data)  # the scripted models have no list price
    printed = capsys.readouterr().out
    rows = printed[printed.index("iteration  val accuracy") :].splitlines()[1:4]
    assert all("unknown" in row and "0.0000" not in row for row in rows)


def test_a_run_answered_from_the_cache_costs_zero_not_unknown_when_its_models_have_prices(tmp_path, data, capsys):  # noqa: F811
    from tests import scenario

    with MessagesServer(scenario.world) as running:  # answers claude-opus-5-5 as the optimizer, the rest as forward
        arguments = ["compile", str(data), *data_options(), "--base-url", running.base_url, "--system", FORMAT]
        arguments += ["--model", "claude-haiku-5-5", "--optimizer-model", "claude-opus-5-5", "--iterations", "1"]
        arguments += ["--samples-per-label", "8", "--val-per-label", "5", "--cache-dir", str(tmp_path / "cache")]
        assert main([*arguments, "--out", str(tmp_path / "first")]) == 0
        capsys.readouterr()
        assert main([*arguments, "--out", str(tmp_path / "again")]) == 0  # every call from the cache
    printed = capsys.readouterr().out
    rows = printed[printed.index("iteration  val accuracy") :].splitlines()[1:3]
    assert all(row.split()[4] == "0.0000" for row in rows), rows


def test_the_progress_lines_of_unpriced_models_say_cost_unknown_from_the_cache_as_when_paid(
    tmp_path,
    server,  # noqa: F811
    data,  # noqa: F811
    capsys,
):
    """Iterations 0 and 1 come from the first run's cache, iteration 2 is paid: every line says the same."""
    compile_to(tmp_path, server, data, "--iterations", "1", "--cache-dir", str(tmp_path / "cache"))
    capsys.readouterr()
    arguments = ["compile", str(data), *data_options(), *models(server), "--iterations", "2", "--samples-per-label"]
    arguments += ["8", "--val-per-label", "5", "--system", FORMAT, "--cache-dir", str(tmp_path / "cache")]
    assert main([*arguments, "--out", str(tmp_path / "again")]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.endswith(" elapsed")]
    assert len(lines) == 3 and all(", cost unknown, " in line for line in lines), lines
