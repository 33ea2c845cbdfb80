"""The parser says which options the command line gave, apart from the values argparse fills in by default."""

from promptgraph.cli import parser


def test_an_option_typed_at_its_default_value_is_given():
    default = parser().parse_args(["compile", "data.csv"]).samples_per_label
    typed = parser().parse_args(["compile", "data.csv", "--samples-per-label", str(default)])
    assert "samples_per_label" in typed.options_given


def test_an_option_left_to_its_default_is_not_given():
    arguments = parser().parse_args(["compile", "data.csv"])
    assert arguments.samples_per_label is not None and "samples_per_label" not in arguments.options_given


def test_a_flag_a_positional_and_an_option_of_another_spelling_are_given_by_their_destination():
    arguments = parser().parse_args(["--log-level", "info", "compile", "data.csv", "--no-cache", "--auto", "light"])
    assert arguments.options_given == {"log_level", "command", "data", "no_cache", "max_metric_calls"}
