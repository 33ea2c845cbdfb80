"""`compile --auto light|medium|heavy`: DSPy's spelling of `--max-metric-calls light|medium|heavy`."""

import pytest

from promptgraph.cli import parser


@pytest.mark.parametrize("level", ["light", "medium", "heavy"])
def test_auto_sets_the_max_metric_calls_level_it_names(level):
    assert parser().parse_args(["compile", "data.csv", "--auto", level]).max_metric_calls == level


def test_auto_takes_only_the_level_names_not_a_number_of_calls(capsys):
    with pytest.raises(SystemExit) as exit:
        parser().parse_args(["compile", "data.csv", "--auto", "400"])
    assert exit.value.code == 2 and "light" in capsys.readouterr().err
