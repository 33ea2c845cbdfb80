import json

import pytest

from promptgraph.cli import backend, main
from promptgraph.lm import AnthropicLM
from tests.cli.test_train import data, data_options  # noqa: F401  # the data fixture
from tests.messages_server import serve
from tests.optimizers.test_knn import nearest_label
from tests.report.page import parse


@pytest.fixture
def knn_server():
    with serve(nearest_label) as base_url:
        yield base_url


def test_compile_with_knn_saves_the_pool_and_its_retriever_and_evaluate_uses_them(tmp_path, knn_server, data, capsys):  # noqa: F811
    out = tmp_path / "run"
    arguments = ["compile", str(data), *data_options(), "--base-url", knn_server, "--model", "scripted-haiku"]
    assert main([*arguments, "--optimizer", "knn", "--val-per-label", "5", "--out", str(out)]) == 0
    assert "knn: the demo pool is set" in capsys.readouterr().out
    saved = json.loads((out / "program.json").read_text())["nodes"][0]["demos"]["demos"]
    assert len(saved["pairs"]) == 30 and saved["retriever"]["k"] == 4
    evaluate = ["evaluate", str(out / "program.json"), str(data), *data_options(), "--base-url", knn_server]
    assert main([*evaluate, "--model", "scripted-haiku"]) == 0
    assert "accuracy 1.000" in capsys.readouterr().out


class FakeLocalServer:
    """Stands in for llama-server: a loopback Messages API answering as a 1-NN, under a local model's name."""

    base_url: str = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        pass

    def lm(self, **options):
        return AnthropicLM(base_url=self.base_url, api_key="local", model="SmolLM2-135M-Instruct.Q4_1", **options)


def test_a_local_runs_report_shows_the_local_model_and_knn_with_its_pool_and_no_claude(
    tmp_path,
    knn_server,
    data,  # noqa: F811  # the fixture
    monkeypatch,
):
    FakeLocalServer.base_url = knn_server
    monkeypatch.setattr(backend, "find_local", lambda: "built")
    monkeypatch.setattr(backend, "LocalServer", FakeLocalServer)
    out = tmp_path / "run"
    arguments = ["compile", str(data), *data_options(), "--lm", "local", "--val-per-label", "5", "--iterations", "3"]
    assert main([*arguments, "--out", str(out)]) == 0

    page = parse((out / "report" / "index.html").read_text())
    settings = {item.first("dt").text: item.first("dd").text for item in page.by_id("settings").all("div")}
    assert settings["backend"].startswith("local") and settings["model"] == "SmolLM2-135M-Instruct.Q4_1"
    assert settings["optimizer"].startswith("knn: KNNDemos(k=4)")
    assert "a pool of 30 training examples, the 4 nearest shown to each input" in settings["optimizer"]
    assert "claude" not in page.by_id("settings").text and "optimizer model" not in settings
