"""A model-calling optimizer on the local backend is warned of before the run: the local model is too small."""

import pytest

from promptgraph.cli import backend, main
from promptgraph.lm.local import LocalServerError
from promptgraph.testing import MessagesServer
from tests.cli.test_train import data, data_options, reply  # noqa: F401  # the data fixture

TOO_SMALL = "the local model is too small to write critiques and rewrites"


class UnstartableLocalServer:
    """llama-server that fails to start: a warning said before the run is the only thing a run can print."""

    def __enter__(self):
        raise LocalServerError("llama-server did not start (a test's stand-in)")

    def __exit__(self, *exc_info):
        pass


@pytest.fixture
def local(monkeypatch):
    monkeypatch.setattr(backend, "find_local", lambda: "built")
    monkeypatch.setattr(backend, "LocalServer", UnstartableLocalServer)


def compile_on(data, tmp_path, *options):  # noqa: F811
    return main(
        ["compile", str(data), *data_options(), "--val-per-label", "5", "--out", str(tmp_path / "run"), *options]
    )


@pytest.mark.parametrize("optimizer", ["tgd", "pareto", "opro", "beam", "ape", "tgd+demos"])
def test_an_optimizer_that_calls_a_model_on_the_local_backend_is_warned_of_before_the_run(
    tmp_path,
    data,  # noqa: F811
    local,
    capsys,
    optimizer,
):
    assert compile_on(data, tmp_path, "--lm", "local", "--optimizer", optimizer) == 1  # the stand-in never starts
    warnings = [line for line in capsys.readouterr().err.splitlines() if TOO_SMALL in line]
    assert len(warnings) == 1 and warnings[0].startswith(f"promptgraph: warning: --optimizer {optimizer} ")
    assert "cannot write a useful critique or rewrite a prompt" in warnings[0]  # the README's words
    assert "--optimizer knn" in warnings[0] and "ANTHROPIC_API_KEY" in warnings[0] and "--base-url" in warnings[0]


@pytest.mark.parametrize("optimizer", [None, "knn", "demos"])
def test_an_optimizer_that_calls_no_model_on_the_local_backend_is_not_warned_of(
    tmp_path,
    data,  # noqa: F811
    local,
    capsys,
    optimizer,
):
    chosen = ["--optimizer", optimizer] if optimizer else []  # none: knn, the local default
    assert compile_on(data, tmp_path, "--lm", "local", *chosen) == 1
    assert TOO_SMALL not in capsys.readouterr().err


def test_an_optimizer_that_calls_a_model_on_a_base_url_server_is_not_warned_of(tmp_path, data, capsys):  # noqa: F811
    with MessagesServer(reply) as server:
        server.fail_always("401")  # the run ends at its pre-flight probe
        assert compile_on(data, tmp_path, "--base-url", server.base_url, "--optimizer", "pareto") == 1
    assert TOO_SMALL not in capsys.readouterr().err
