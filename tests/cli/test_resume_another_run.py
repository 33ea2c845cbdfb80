"""`promptgraph compile --resume` gets compile's refusal of another run: a data file whose rows kept their ids
but changed their texts or labels since the run started is refused in one line, and the run is left as it was.
(Another program or optimizer cannot reach compile from the command line: --resume refuses a changed option.)"""

import csv

from promptgraph.cli import main
from tests.cli.test_train import compile_to, data, server  # noqa: F401  # fixtures


def flip_labels(path):
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    flipped = [rows[0]] + [[qid, text, "0" if target == "1" else "1"] for qid, text, target in rows[1:]]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(flipped)


def test_a_resume_after_the_data_files_labels_changed_is_refused_in_one_line(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    before = (out / "checkpoint.json").read_bytes()
    flip_labels(data)
    capsys.readouterr()
    assert main(["compile", "--resume", str(out), "--base-url", server, "--iterations", "3"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("promptgraph: error: ") and "\n" not in error
    assert "other data under the same ids" in error and "start a new run directory" in error
    assert (out / "checkpoint.json").read_bytes() == before


def test_a_refused_resume_leaves_the_runs_command_file_as_it_was(tmp_path, server, data, capsys):  # noqa: F811
    out = compile_to(tmp_path, server, data)
    before = (out / "command.json").read_bytes()
    flip_labels(data)
    assert main(["compile", "--resume", str(out), "--base-url", server, "--iterations", "7"]) == 2
    assert (out / "command.json").read_bytes() == before  # the refused --iterations 7 is not remembered
