"""--resume knows which options the command line gave, not which differ from the parser's defaults: a given
option a resume cannot change is refused even at its default value, and one a resume may change is taken."""

import json
import os
import subprocess
from pathlib import Path

from promptgraph.cli import parser
from promptgraph.cli.backend import DEFAULT_MAX_CONSECUTIVE_FAILURES
from promptgraph.cli.train import remember_arguments, resumed_arguments
from tests.child import promptgraph_command
from tests.cli.test_train import compile_to, data, server  # noqa: F401  # fixtures

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SAMPLES_PER_LABEL = parser().parse_args(["compile", "data.csv"]).samples_per_label


def resume(out: Path, base_url: str, *given: str) -> subprocess.CompletedProcess:
    """`promptgraph compile --resume OUT GIVEN...` in a child process, as a user types it."""
    command = promptgraph_command("compile", "--resume", str(out), "--base-url", base_url, *given)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_a_given_option_at_its_default_that_differs_from_the_runs_is_refused_naming_it(tmp_path, server, data):  # noqa: F811
    out = compile_to(tmp_path, server, data)  # started with --samples-per-label 8
    before = (out / "checkpoint.json").read_bytes()
    refused = resume(out, server, "--samples-per-label", str(DEFAULT_SAMPLES_PER_LABEL))
    assert refused.returncode == 2
    assert f"--samples-per-label {DEFAULT_SAMPLES_PER_LABEL} (started with 8)" in refused.stderr
    assert (out / "checkpoint.json").read_bytes() == before


def test_a_given_option_equal_to_the_runs_own_setting_is_accepted(tmp_path, server, data):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    accepted = resume(out, server, "--samples-per-label", "8", "--iterations", "3")
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads((out / "checkpoint.json").read_text())["iteration"] == 3


def test_options_not_given_are_taken_from_the_run(tmp_path, server, data):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    accepted = resume(out, server, "--iterations", "3")
    assert accepted.returncode == 0, accepted.stderr
    settings = json.loads((out / "command.json").read_text())
    assert (settings["samples_per_label"], settings["val_per_label"], settings["iterations"]) == (8, 5, 3)


def test_a_resume_takes_an_option_it_may_change_when_given_at_its_default(tmp_path, data):  # noqa: F811
    out = tmp_path / "run"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    started = ["compile", str(data), "--out", str(out), "--max-consecutive-failures", "30", *cache]
    remember_arguments(parser().parse_args(started), out)
    default = str(DEFAULT_MAX_CONSECUTIVE_FAILURES)
    again = parser().parse_args(["compile", "--resume", str(out), *cache, "--max-consecutive-failures", default])
    assert resumed_arguments(again).max_consecutive_failures == DEFAULT_MAX_CONSECUTIVE_FAILURES
