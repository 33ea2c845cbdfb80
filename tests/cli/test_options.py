import argparse
from pathlib import Path

import pytest

from promptgraph.cli import main
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


def test_labels_written_name_first_are_explained_with_the_mapping_to_write(tmp_path, capsys):
    data = tmp_path / "questions.csv"
    data.write_text("text,label\nWhy?,0\nHow?,1\nWhat?,0\nWhen?,1\n", encoding="utf-8")
    assert main(["compile", str(data), "--labels", "sincere=0,insincere=1", "--dry-run", "--lm", "claude"]) == 2
    error = capsys.readouterr().err
    assert "--labels 'sincere=0,insincere=1' is the wrong way round: it reads raw=name" in error
    assert "write --labels 0=sincere,1=insincere" in error


def test_the_grader_example_without_inputs_says_to_give_them_with_inputs(capsys):
    root = Path(__file__).resolve().parents[2]
    grader = f"{root}/examples/grader.py:build"
    assert main(["compile", f"{root}/examples/data/grader.csv", "--program", grader, "--dry-run"]) == 2
    assert "choose them with --inputs question,reference_answer,student_answer" in capsys.readouterr().err
