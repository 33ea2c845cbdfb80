import json

import pytest

from promptgraph.cli import main
from tests.cli.test_train import data, data_options  # noqa: F401  # the data fixture
from tests.messages_server import serve
from tests.optimizers.test_knn import nearest_label


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
