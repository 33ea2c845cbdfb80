import argparse

import pytest

from promptgraph.cli.arguments import UsageError
from promptgraph.cli.options import input_columns, parse_labels


def test_labels_are_names_or_a_mapping_from_raw_values():
    assert parse_labels("a, b") == (["a", "b"], None)
    assert parse_labels("0=no,1=yes") == (["no", "yes"], {"0": "no", "1": "yes"})


def test_several_raw_values_may_be_merged_into_one_label():
    assert parse_labels("0=neg,1=neg,2=pos") == (["neg", "pos"], {"0": "neg", "1": "neg", "2": "pos"})


def test_rows_with_no_label_may_be_named_on_purpose():
    assert parse_labels("=other,1=yes") == (["other", "yes"], {"": "other", "1": "yes"})


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("a,,b", "empty name"),
        ("0=,1=b", "empty name"),
        (",", "empty name"),
        ("a,b,a", "gives 'a' twice"),
        ("0=a,0=b", "gives '0' twice"),
        ("0=a,1=a", "gives one label, 'a'"),
        ("a", "gives one label"),
        ("a,1=b", "mixes names"),
    ],
)
def test_labels_that_cannot_make_a_classifier_are_refused(text, refusal):
    with pytest.raises(UsageError, match=refusal):
        parse_labels(text)


@pytest.mark.parametrize(
    ("inputs", "refusal"),
    [("=text", "empty name"), ("a=", "empty name"), ("a=x,a=y", "reads column 'a' twice"), ("a=x,b=x", "input 'x'")],
)
def test_inputs_that_cannot_be_read_are_refused(inputs, refusal):
    with pytest.raises(UsageError, match=refusal):
        input_columns(argparse.Namespace(inputs=inputs, text_column="text"))
