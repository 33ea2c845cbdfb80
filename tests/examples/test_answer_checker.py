"""The answer-checker example: compiled from two descriptions, then improved by three real examples."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checker(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import answer_checker

    yield answer_checker
    sys.modules.pop("answer_checker", None)


def test_three_real_examples_lift_accuracy_on_real_data_above_descriptions_alone(checker, capsys):
    assert checker.main(["--scripted", "--per-class", "20"]) == 0
    described, with_three = capsys.readouterr().out.strip().splitlines()
    real = [float(line.split("real test ")[1].split()[0]) for line in (described, with_three)]
    assert real[1] > real[0]


def test_the_real_examples_it_adds_are_not_in_its_test_set(checker):
    real = checker.pg.load_examples(checker.REAL, inputs=("text",), label="label", id="id")
    assert {e.id for e in real} >= set(checker.THREE) and len(real) == 20
