"""`--program file.py:build` and `--trust-code`: user code runs only from a file the user named or trusted."""

import csv
import json
import subprocess
import sys
import textwrap

import pytest

import promptgraph as pg
from promptgraph.cli import main
from promptgraph.cli.options import load_program
from tests.messages_server import serve
from tests.scenario import FORMAT, forward_reply, optimizer_reply, questions

PIPELINE = f"""
import promptgraph as pg


def tidy(text):
    return " ".join(text.split())


def last_label(text):
    return text.rsplit("<label>", 1)[-1].split("</label>", 1)[0]


def build():
    program = pg.Program(inputs=("text",))
    program.add("tidy", pg.Function(tidy, inputs=("text",), outputs=("clean",)))
    program.add("classify", pg.Classify(["sincere", "insincere"], parser=last_label, system={FORMAT!r}), text="tidy.clean")
    return program
"""


def loud(text):
    return text.upper()


def reply(request):
    return optimizer_reply(request) if request.model == "scripted-opus" else forward_reply(request)


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def pipeline(tmp_path):
    return write(tmp_path / "pipeline.py", PIPELINE)


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "questions.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [("id", "text", "label"), *((e.id, e.inputs["text"], e.label) for e in questions(40))]
        )
    return path


def test_a_program_file_named_like_a_standard_module_is_loaded_from_its_path(tmp_path):
    write(
        tmp_path / "json.py",
        "import promptgraph as pg\n\ndef build():\n    return pg.Program.of(pg.Classify(['a', 'b']), name='mine')\n",
    )
    program = load_program(f"{tmp_path / 'json.py'}:build")
    assert list(program.nodes) == ["mine"]
    assert sys.modules["json"].dumps([1]) == "[1]"  # the standard library's json is untouched


def test_a_program_file_does_not_shadow_modules_imported_later(tmp_path):
    write(
        tmp_path / "csv.py",
        "import promptgraph as pg\n\ndef build():\n    return pg.Program.of(pg.Classify(['a', 'b']), name='c')\n",
    )
    load_program(f"{tmp_path / 'csv.py'}:build")
    assert sys.modules["csv"].__file__ != str(tmp_path / "csv.py")


@pytest.mark.parametrize(
    "body, spec, message",
    [
        ("", ".:build", "is not a Python file"),
        ("def build():\n    pass\n", "{file}", "name the function that builds the program"),
        ("", "{dir}/missing.py:build", "there is no file"),
        ("x = 1\n", "{file}:build", "has no function build"),
        ("build = 3\n", "{file}:build", "is not a function"),
        ("def build():\n    raise RuntimeError('no data here')\n", "{file}:build", "RuntimeError: no data here"),
        ("def build():\n    return 42\n", "{file}:build", "returned int, not a promptgraph Program"),
        ("import nonexistent_package_xyz\n", "{file}:build", "cannot be run: ModuleNotFoundError"),
        ("def build(:\n", "{file}:build", "cannot be run: SyntaxError"),
    ],
)
def test_a_bad_program_file_gives_one_clear_line(tmp_path, body, spec, message):
    file = write(tmp_path / "prog.py", body)
    spec = spec.format(dir=tmp_path, file=file)
    with pytest.raises(ValueError) as refused:
        load_program(spec)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert f"--program {spec}" in str(refused.value)


def test_functions_of_a_program_file_are_saved_by_path_and_load_again_in_a_new_process_when_trusted(tmp_path, pipeline):
    saved = load_program(f"{pipeline}:build").save(tmp_path / "p.json")
    assert json.loads(saved.read_text())["nodes"][0]["config"]["function"] == f"{pipeline}:tidy"
    script = (
        "import sys, promptgraph as pg\n"
        "program = pg.load(sys.argv[1], trust_code=True)\n"
        "print(program('Why  are all  cats bad?', lm=pg.ScriptedLM(replies=['Label: <label>insincere</label>'])))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script, str(saved)], capture_output=True, text=True, timeout=120)
    assert (ran.returncode, ran.stdout.strip()) == (0, "insincere"), ran.stderr


def test_a_program_from_a_file_is_refused_by_name_without_trust(tmp_path, pipeline):
    saved = load_program(f"{pipeline}:build").save(tmp_path / "p.json")
    with pytest.raises(pg.LoadError, match=f"'{pipeline}:tidy'.*--trust-code"):
        pg.load(saved)


def test_a_program_built_from_a_file_trains_saves_predicts_with_trust_and_resumes(tmp_path, pipeline, data, capsys):
    out = tmp_path / "run"
    with serve(reply) as base_url:
        backend = ["--base-url", base_url, "--model", "scripted-haiku"]
        compiled = ["compile", str(data), "--program", f"{pipeline}:build", "--iterations", "1", "--out", str(out)]
        models = [*backend, "--optimizer-model", "scripted-opus"]
        assert main([*compiled, "--samples-per-label", "6", "--val-per-label", "5", *models]) == 0
        capsys.readouterr()
        predict = ["predict", str(out / "program.json"), "--text", "How do I bake bread?", *backend]
        assert main(predict) == 2
        assert "--trust-code" in capsys.readouterr().err
        assert main([*predict, "--trust-code"]) == 0
        assert capsys.readouterr().out.splitlines()[1].endswith(",sincere,ok")
        assert main(["compile", "--resume", str(out), *models]) == 2  # the code is named by command.json
        assert "--trust-code" in capsys.readouterr().err
        assert main(["compile", "--resume", str(out), "--trust-code", *models]) == 0


def test_resuming_a_run_directory_whose_settings_name_code_runs_none_of_it_without_trust(tmp_path, data, capsys):
    marker = tmp_path / "PWN"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').close()\ndef build():\n    raise SystemExit('ran')\n")
    out = tmp_path / "shared-run"
    out.mkdir()
    settings = {"data": str(data), "program": f"{evil}:build", "trust_code": True, "text_column": "text"}
    (out / "command.json").write_text(json.dumps(settings))
    assert main(["compile", "--resume", str(out), "--base-url", "http://127.0.0.1:9"]) == 2
    error = capsys.readouterr().err
    assert f"{evil}:build" in error and "--trust-code" in error
    assert not marker.exists()


def test_predict_refuses_a_program_whose_function_runs_shell_commands(tmp_path, data, capsys):
    marker = tmp_path / "PWN"
    program = pg.Program.of(pg.Function(loud, inputs=("text",), outputs=("loud",)), name="f")
    path = program.save(tmp_path / "p.json")
    saved = json.loads(path.read_text())
    saved["nodes"][0]["config"]["function"] = "subprocess:getoutput"
    path.write_text(json.dumps(saved))
    rows = tmp_path / "rows.csv"
    rows.write_text(f"id,text\n1,touch {marker}\n")
    with serve(reply) as base_url:
        assert main(["predict", str(path), str(rows), "--base-url", base_url, "--no-cache"]) != 0
    assert not marker.exists()
    assert "'subprocess:getoutput'" in capsys.readouterr().err
