"""evaluate and predict say why calls failed and exit non-zero past --max-failure-rate, through the real SDK."""

import csv

import pytest

import promptgraph as pg
from promptgraph.cli import main
from promptgraph.cli.failures import SHOWN_KINDS, Failures
from promptgraph.data import Example
from promptgraph.trace import FAILED, NodeTrace, Outcome, Trace
from tests.scenario import FORMAT, KEY_PHRASE
from tests.status_server import StatusServer

STATUSES = [401, 400, 502]


@pytest.fixture
def program(tmp_path):
    classify = pg.Classify(["sincere", "insincere"], system=f"{KEY_PHRASE} {FORMAT}")
    return pg.Program.of(classify, name="c").save(tmp_path / "p.json")


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "q.csv"
    rows = [(f"r{i}", f"Why are all group{i} people bad?", "insincere") for i in range(6)]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("id", "question", "label"), *rows])
    return path


def columns():
    # a breaker patient enough that every row's failure is seen, whatever the status
    return ["--text-column", "question", "--id-column", "id", "--no-cache", "--max-consecutive-failures", "100"]


@pytest.mark.parametrize("status", STATUSES)
def test_evaluate_on_a_server_failing_every_call_prints_the_error_once_and_exits_non_zero(
    program, data, capsys, status
):
    with StatusServer(status) as server:
        code = main(["evaluate", str(program), str(data), *columns(), "--base-url", server.base_url])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count(f"the API answered {status}") == 1
    assert "6 of 6 examples failed (more than 50%" in err


@pytest.mark.parametrize("status", STATUSES)
def test_predict_on_a_server_failing_every_call_prints_the_error_once_and_exits_non_zero(
    program, data, tmp_path, capsys, status
):
    output = tmp_path / "labels.csv"
    with StatusServer(status) as server:
        arguments = ["predict", str(program), str(data), *columns(), "--output", str(output)]
        code = main([*arguments, "--base-url", server.base_url])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count(f"the API answered {status}") == 1
    assert "6 of 6 rows failed (more than 50%" in err
    assert "run the same command again to retry the failed rows" in err


def test_predict_to_standard_output_also_exits_non_zero_when_calls_fail(program, capsys):
    with StatusServer(401) as server:
        code = main(["predict", str(program), "--text", "Why?", "--text", "How?", "--base-url", server.base_url])
    captured = capsys.readouterr()
    assert code == 1
    assert "the API answered 401" in captured.err
    assert captured.out.splitlines()[1:] == ["1,,failed", "2,,failed"]


def test_a_failure_rate_within_the_limit_exits_zero_but_still_says_what_failed(program, data, capsys):
    with StatusServer(400) as server:
        arguments = ["evaluate", str(program), str(data), *columns(), "--max-failure-rate", "1"]
        code = main([*arguments, "--base-url", server.base_url])
    assert code == 0
    assert capsys.readouterr().err.count("the API answered 400") == 1


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "nan", "half"])
def test_a_failure_rate_that_is_not_a_share_is_refused_by_every_command(program, data, rate, capsys):
    for command in (["evaluate", str(program), str(data)], ["predict", str(program), str(data)], ["compile"]):
        with pytest.raises(SystemExit) as stopped:
            main([*command, "--max-failure-rate", rate])
        assert stopped.value.code == 2
        assert "--max-failure-rate: must be" in capsys.readouterr().err


def failed_trace(error: str) -> Trace:
    node = NodeTrace(node="c", inputs={}, outcome=Outcome(FAILED, error=error))
    return Trace(example=Example({"text": "x"}), nodes={"c": node}, output="c.label")


def test_only_the_first_few_kinds_of_error_are_printed_and_the_rest_are_counted(capsys):
    failures = Failures()
    failures.add([failed_trace(f"error {number % 20}") for number in range(100)])
    err = capsys.readouterr().err
    assert err.count("a call failed") == SHOWN_KINDS
    assert failures.failed == 100 and "75 of them with errors not shown" in failures.verdict(0.5, "rows")
