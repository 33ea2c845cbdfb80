"""An interrupted `promptgraph compile` says how to carry on, in the command line's own spelling."""

import argparse

from promptgraph import checkpoint
from promptgraph.cli import _how_to_go_on


def test_an_interrupted_compile_with_a_checkpoint_says_to_resume_it_from_the_command_line(tmp_path):
    (tmp_path / checkpoint.FILE).write_text("{}", encoding="utf-8")
    said = _how_to_go_on(argparse.Namespace(command="compile", out=str(tmp_path)))
    assert said == f"; carry on with: promptgraph compile --resume {tmp_path}"


def test_an_interrupted_compile_without_one_says_to_run_the_same_command_again(tmp_path):
    said = _how_to_go_on(argparse.Namespace(command="compile", out=str(tmp_path)))
    assert said.endswith("there is nothing to resume; run the same command again")
