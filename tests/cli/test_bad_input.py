"""Bad input, one case per row: exit code 2, one line on stderr naming what to fix, nothing written or sent.

Every case runs the real command in-process against a loopback Messages server, so a
case that is wrongly accepted runs (and fails the test) in seconds instead of hanging.
"""

import subprocess
import sys
import threading
from pathlib import Path

import attrs
import pytest

import promptgraph as pg
from promptgraph.cli import main
from promptgraph.testing import MessagesServer

GOOD_ROWS = "id,text,label\n" + "".join(f"r{i},text number {i},{'ab'[i % 2]}\n" for i in range(8))


@attrs.define
class World:
    """Files to point the commands at, and a server that counts what reaches it."""

    tmp: Path
    base_url: str
    requests: list

    @property
    def out(self) -> Path:
        return self.tmp / "run"

    def file(self, name: str, content: str | bytes = GOOD_ROWS) -> str:
        path = self.tmp / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return str(path)

    def directory(self, name: str = "folder") -> str:
        path = self.tmp / name
        path.mkdir(exist_ok=True)
        return str(path)

    def program(self) -> str:
        return str(pg.Program.of(pg.Classify(["a", "b"]), name="c").save(self.tmp / "program.json"))

    def two_input_program(self) -> str:
        program = pg.Program(inputs=("question", "answer"))
        program.add("c", pg.Classify(["a", "b"], inputs=("question", "answer")), question="question", answer="answer")
        return str(program.save(self.tmp / "two.json"))

    def models(self) -> list[str]:
        return ["--base-url", self.base_url, "--model", "m", "--no-cache"]

    def compile(self, *extra: str, data: str | None = None) -> list[str]:
        small = ["--iterations", "1", "--samples-per-label", "2", "--val-per-label", "1", "--optimizer", "demos"]
        return ["compile", data or self.file("data.csv"), *small, "--out", str(self.out), *self.models(), *extra]

    def evaluate(self, *extra: str, data: str | None = None, program: str | None = None) -> list[str]:
        return ["evaluate", program or self.program(), data or self.file("data.csv"), *self.models(), *extra]

    def predict(self, *extra: str, data: str | None = None) -> list[str]:
        data_part = [data] if data else []
        output = ["--output", str(self.tmp / "labels.csv")]
        return ["predict", self.program(), *data_part, *output, *self.models(), *extra]

    def synthesize(self, *extra: str, classes: str | None = None) -> list[str]:
        classes = classes or self.file("classes.json", '{"a": "about apples", "b": "about bees"}')
        return ["synthesize", classes, "--output", str(self.tmp / "synthetic.csv"), *self.models(), *extra]

    def ask(self, *extra: str) -> list[str]:
        return ["ask", *self.models(), *extra]


@pytest.fixture
def world(tmp_path):
    requests = []

    def reply(request):
        requests.append(request)
        return "Label: <label>a</label>"

    with MessagesServer(reply) as server:
        yield World(tmp_path, server.base_url, requests)


def rows(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


# (test id, the command's arguments from the world, fragments the error must contain)
CASES = [
    # data files
    ("compile: data is a directory", lambda w: w.compile(data=w.directory()), ["folder", "directory"]),
    ("compile: data does not exist", lambda w: w.compile(data=str(w.tmp / "nope.csv")), ["nope.csv", "not exist"]),
    ("compile: valset is a directory", lambda w: w.compile("--valset", w.directory()), ["folder", "directory"]),
    ("compile: valset is the data file", lambda w: w.compile("--valset", w.file("data.csv")), ["data.csv", "--valset"]),
    ("compile: empty file", lambda w: w.compile(data=w.file("e.csv", "")), ["e.csv", "no rows"]),
    ("compile: header only", lambda w: w.compile(data=w.file("h.csv", "id,text,label\n")), ["h.csv", "no rows"]),
    (
        "compile: short row names its real field count",
        lambda w: w.compile(data=w.file("s.csv", GOOD_ROWS + "r9,only two\n")),
        ["s.csv", "line 10", "2 fields", "header names 3"],
    ),
    (
        "compile: a quote never closed",
        lambda w: w.compile(data=w.file("q.csv", GOOD_ROWS + 'r9,"open quote,a\nr10,x,b\n')),
        ["q.csv", "line 10", "quote"],
    ),
    (
        "compile: long row",
        lambda w: w.compile(data=w.file("l.csv", GOOD_ROWS + "r9,x,a,extra\n")),
        ["l.csv", "line 10", "4 fields"],
    ),
    (
        "compile: duplicated header column",
        lambda w: w.compile(data=w.file("d.csv", GOOD_ROWS.replace("id,text,label", "text,text,label"))),
        ["d.csv", "'text'", "twice"],
    ),
    (
        "compile: duplicated id",
        lambda w: w.compile("--id-column", "id", data=w.file("i.csv", GOOD_ROWS + "r3,again,b\n")),
        ["i.csv", "line 10", "'r3'", "line 5"],
    ),
    (
        "compile: empty id",
        lambda w: w.compile("--id-column", "id", data=w.file("i.csv", GOOD_ROWS + ",no id,b\n")),
        ["i.csv", "line 10", "'id'", "empty"],
    ),
    (
        "compile: NaN label",
        lambda w: w.compile(data=w.file("n.csv", GOOD_ROWS + "r9,x,NaN\n")),
        ["n.csv", "line 10", "'label'", "NaN"],
    ),
    (
        "compile: empty label",
        lambda w: w.compile(data=w.file("n.csv", GOOD_ROWS + "r9,x,\n")),
        ["n.csv", "line 10", "'label'", "empty"],
    ),
    (
        "compile: whitespace label",
        lambda w: w.compile(data=w.file("n.csv", GOOD_ROWS + "r9,x,   \n")),
        ["n.csv", "line 10", "'label'", "empty"],
    ),
    (
        "compile: empty text",
        lambda w: w.compile(data=w.file("t.csv", GOOD_ROWS + "r9,,a\n")),
        ["t.csv", "line 10", "'text'", "empty"],
    ),
    (
        "compile: not UTF-8",
        lambda w: w.compile(data=w.file("latin.csv", GOOD_ROWS.encode() + "r9,caf\u00e9,a\n".encode("latin-1"))),
        ["latin.csv", "line 10", "byte 0xe9", "offset 172", "UTF-8"],
    ),
    (
        "compile: UTF-16",
        lambda w: w.compile(data=w.file("wide.csv", GOOD_ROWS.encode("utf-16"))),
        ["wide.csv", "UTF-16", "UTF-8"],
    ),
    (
        "compile: JSONL null text",
        lambda w: w.compile(data=w.file("n.jsonl", '{"text": "x", "label": "a"}\n{"text": null, "label": "b"}\n')),
        ["n.jsonl", "line 2", "'text'", "null"],
    ),
    (
        "compile: JSONL list as text",
        lambda w: w.compile(data=w.file("n.jsonl", '{"text": "x", "label": "a"}\n{"text": ["y"], "label": "b"}\n')),
        ["n.jsonl", "line 2", "'text'", "not text"],
    ),
    (
        "compile: JSONL null label",
        lambda w: w.compile(data=w.file("n.jsonl", '{"text": "x", "label": "a"}\n{"text": "y", "label": null}\n')),
        ["n.jsonl", "line 2", "'label'"],
    ),
    (
        "compile: JSONL line not JSON",
        lambda w: w.compile(data=w.file("n.jsonl", '{"text": "x", "label": "a"}\n{"text": \n')),
        ["n.jsonl", "line 2", "not JSON"],
    ),
    ("compile: missing column", lambda w: w.compile("--text-column", "body"), ["data.csv", "'body'"]),
    (
        "compile: bad canonical flag",
        lambda w: w.compile("--always-column", "label"),
        ["data.csv", "line 2", "'label'"],
    ),
    # labels
    (
        "compile: one label only",
        lambda w: w.compile(data=w.file("one.csv", "text,label\nx,a\ny,a\nz,a\n")),
        ["one.csv", "single label", "'a'"],
    ),
    (
        "compile: one of the labels given has no row",
        lambda w: w.compile("--labels", "0=a,1=b", data=w.file("one.csv", "text,label\nx,0\ny,0\nz,0\n")),
        ["one.csv", "single label", "'a'", "no row labelled 'b'"],
    ),
    (
        "compile: a label with one example and no valset",
        lambda w: w.compile(data=w.file("few.csv", "text,label\nx,a\ny,a\nz,b\n")),
        ["'b'", "only 1"],
    ),
    (
        "compile: valset label the trainset lacks",
        lambda w: w.compile("--valset", w.file("val.csv", "text,label\nx,a\ny,c\n")),
        ["valset", "c"],
    ),
    ("compile: --labels maps two values to one name", lambda w: w.compile("--labels", "0=a,1=a"), ["--labels", "'a'"]),
    ("compile: --labels gives one value twice", lambda w: w.compile("--labels", "0=a,0=b"), ["--labels", "'0'"]),
    ("compile: --labels repeats a name", lambda w: w.compile("--labels", "a,b,a"), ["--labels", "'a'"]),
    ("compile: --labels with an empty name", lambda w: w.compile("--labels", "a,,b"), ["--labels", "empty"]),
    ("compile: --labels with an empty mapped name", lambda w: w.compile("--labels", "0=,1=b"), ["--labels", "empty"]),
    ("compile: --labels of commas only", lambda w: w.compile("--labels", ","), ["--labels", "empty"]),
    ("compile: --labels names one label", lambda w: w.compile("--labels", "a"), ["--labels", "two"]),
    (
        "compile: a data label not in --labels",
        lambda w: w.compile("--labels", "a,c"),
        ["data.csv", "line 3", "'b'", "labels given"],
    ),
    ("compile: --inputs with an empty column", lambda w: w.compile("--inputs", "=text"), ["--inputs"]),
    (
        "compile: --inputs naming one input twice",
        lambda w: w.compile("--inputs", "id=text,text"),
        ["--inputs", "'text'"],
    ),
    # numbers
    ("compile: --iterations -1", lambda w: w.compile("--iterations", "-1"), ["--iterations", "-1"]),
    ("compile: --samples-per-label 0", lambda w: w.compile("--samples-per-label", "0"), ["--samples-per-label"]),
    ("compile: --val-per-label 0", lambda w: w.compile("--val-per-label", "0"), ["--val-per-label"]),
    ("compile: --max-concurrency 0", lambda w: w.compile("--max-concurrency", "0"), ["--max-concurrency"]),
    ("compile: --budget-usd nan", lambda w: w.compile("--budget-usd", "nan"), ["--budget-usd", "nan"]),
    ("compile: --budget-usd -1", lambda w: w.compile("--budget-usd", "-1"), ["--budget-usd"]),
    ("compile: --budget-usd inf", lambda w: w.compile("--budget-usd", "inf"), ["--budget-usd"]),
    ("compile: --max-failure-rate 1.5", lambda w: w.compile("--max-failure-rate", "1.5"), ["--max-failure-rate"]),
    ("compile: --max-failure-rate nan", lambda w: w.compile("--max-failure-rate", "nan"), ["--max-failure-rate"]),
    ("compile: --max-tokens 0", lambda w: w.compile("--max-tokens", "0"), ["--max-tokens"]),
    ("compile: --max-tokens -5", lambda w: w.compile("--max-tokens", "-5"), ["--max-tokens"]),
    ("compile: --poll-seconds 0", lambda w: w.compile("--poll-seconds", "0"), ["--poll-seconds"]),
    ("compile: --per-class 0", lambda w: w.compile("--per-class", "0"), ["--per-class"]),
    ("compile: --iterations two", lambda w: w.compile("--iterations", "two"), ["--iterations", "'two'"]),
    # paths to write and other files
    ("compile: --out is a file", lambda w: w.compile("--out", w.file("taken")), ["taken", "not a directory"]),
    (
        "compile: --out inside a file",
        lambda w: w.compile("--out", str(Path(w.file("taken")) / "run")),
        ["taken", "not a directory"],
    ),
    ("compile: --program json missing", lambda w: w.compile("--program", str(w.tmp / "p.json")), ["p.json", "exist"]),
    ("compile: --program is a directory", lambda w: w.compile("--program", w.directory("p.json")), ["p.json"]),
    ("compile: --resume a missing run", lambda w: ["compile", "--resume", str(w.tmp / "gone")], ["gone"]),
    ("compile: --resume a file", lambda w: ["compile", "--resume", w.file("f.txt", "x")], ["f.txt"]),
    (
        "compile: --classes is a directory",
        lambda w: ["compile", "--classes", w.directory(), "--out", str(w.out), *w.models()],
        ["folder", "directory"],
    ),
    ("compile: nothing to train on", lambda w: ["compile", "--out", str(w.out), *w.models()], ["--classes"]),
    (
        "compile: --resume a run whose command.json is broken",
        lambda w: ["compile", "--resume", str(Path(w.file("command.json", "{")).parent)],
        ["command.json", "JSON"],
    ),
    (
        "compile: a spreadsheet instead of a CSV",
        lambda w: w.compile(data=w.file("sheet.xlsx", b"PK\x03\x04\x14\x00\x06\x00")),
        ["sheet.xlsx", "CSV"],
    ),
    (
        "compile: --program reads inputs the data does not give",
        lambda w: w.compile("--program", w.two_input_program()),
        ["question, answer", "--inputs"],
    ),
    ("compile: --base-url not a URL", lambda w: w.compile("--base-url", "localhost:8080"), ["--base-url", "http"]),
    ("compile: --model empty", lambda w: w.compile("--model", ""), ["--model", "empty"]),
    ("compile: --optimizer-model empty", lambda w: w.compile("--optimizer-model", " "), ["--optimizer-model"]),
    (
        "compile: --examples is a directory",
        lambda w: [
            "compile",
            "--classes",
            w.file("c.json", '{"a": "x", "b": "y"}'),
            "--examples",
            w.directory(),
            "--out",
            str(w.out),
            *w.models(),
        ],
        ["folder", "directory"],
    ),
    # evaluate
    ("evaluate: program missing", lambda w: w.evaluate(program=str(w.tmp / "p.json")), ["p.json", "exist"]),
    ("evaluate: program is a directory", lambda w: w.evaluate(program=w.directory("p.json")), ["p.json", "directory"]),
    ("evaluate: data is a directory", lambda w: w.evaluate(data=w.directory()), ["folder", "directory"]),
    (
        "evaluate: NaN label",
        lambda w: w.evaluate(data=w.file("n.csv", GOOD_ROWS + "r9,x,nan\n")),
        ["n.csv", "line 10", "'label'"],
    ),
    ("evaluate: --max-concurrency 0", lambda w: w.evaluate("--max-concurrency", "0"), ["--max-concurrency"]),
    (
        "evaluate: a label the program does not know",
        lambda w: w.evaluate(data=w.file("c.csv", "text,label\nx,a\ny,c\n")),
        ["c.csv", "'c'", "--labels"],
    ),
    (
        "evaluate: --labels names labels the program does not know",
        lambda w: w.evaluate("--labels", "a=yes,b=no"),
        ["--labels a=yes,b=no", "data.csv", "'yes', 'no'", "it knows a, b"],
    ),
    (
        "compile: a label the --program does not know",
        lambda w: w.compile("--program", w.program(), data=w.file("c.csv", GOOD_ROWS + "r9,x,c\nr10,y,c\n")),
        ["c.csv", "'c'", "--labels"],
    ),
    (
        "evaluate: program reads inputs the data does not give",
        lambda w: w.evaluate(program=w.two_input_program()),
        ["question, answer", "--inputs"],
    ),
    # predict
    (
        "predict: a CSV where the program.json goes",
        lambda w: ["predict", w.file("some.csv"), "--text", "hi", *w.models()],
        ["some.csv", "program.json", "not valid JSON"],
    ),
    ("predict: data is a directory", lambda w: w.predict(data=w.directory()), ["folder", "directory"]),
    (
        "predict: --output is a directory",
        lambda w: w.predict("--output", w.directory("out.csv"), data=w.file("data.csv")),
        ["out.csv", "directory"],
    ),
    (
        "predict: --output in a missing folder",
        lambda w: w.predict("--output", str(w.tmp / "no" / "out.csv"), data=w.file("data.csv")),
        ["no", "does not exist"],
    ),
    ("predict: empty --text", lambda w: w.predict("--text", ""), ["--text", "empty"]),
    (
        "predict: JSONL null text",
        lambda w: w.predict(data=w.file("n.jsonl", '{"text": "x"}\n{"text": null}\n')),
        ["n.jsonl", "line 2", "'text'", "null"],
    ),
    (
        "predict: short row",
        lambda w: w.predict(data=w.file("s.csv", GOOD_ROWS + "r9\n")),
        ["s.csv", "line 10", "1 field"],
    ),
    (
        "predict: --max-concurrency 0",
        lambda w: w.predict("--text", "x", "--max-concurrency", "0"),
        ["--max-concurrency"],
    ),
    (
        "predict: program reads inputs the data does not give",
        lambda w: ["predict", w.two_input_program(), w.file("data.csv"), "--output", str(w.tmp / "o.csv"), *w.models()],
        ["question, answer", "--inputs"],
    ),
    # synthesize
    ("synthesize: classes is a directory", lambda w: w.synthesize(classes=w.directory()), ["folder", "directory"]),
    ("synthesize: --per-class 0", lambda w: w.synthesize("--per-class", "0"), ["--per-class"]),
    (
        "synthesize: --output is a directory",
        lambda w: w.synthesize("--output", w.directory("s.csv")),
        ["s.csv", "directory"],
    ),
    (
        "synthesize: an empty class name",
        lambda w: w.synthesize(classes=w.file("c.json", '{"": "x", "b": "y"}')),
        ["c.json", "empty"],
    ),
    (
        "synthesize: one class",
        lambda w: w.synthesize(classes=w.file("c.json", '{"a": "x"}')),
        ["two classes"],
    ),
    (
        "synthesize: --output would overwrite a file",
        lambda w: w.synthesize("--output", w.file("mine.csv")),
        ["mine.csv", "exists"],
    ),
    ("synthesize: --examples missing", lambda w: w.synthesize("--examples", str(w.tmp / "ex.jsonl")), ["ex.jsonl"]),
    ("local setup: --jobs 0", lambda w: ["local", "setup", "--jobs", "0"], ["--jobs"]),
    # ask
    ("ask: --max-tokens 0", lambda w: w.ask("hi", "--max-tokens", "0"), ["--max-tokens"]),
    ("ask: --temperature nan", lambda w: w.ask("hi", "--temperature", "nan"), ["--temperature"]),
    ("ask: --temperature 3", lambda w: w.ask("hi", "--temperature", "3"), ["--temperature"]),
    ("ask: empty text", lambda w: w.ask(""), ["empty"]),
    ("ask: --thinking 500", lambda w: w.ask("hi", "--thinking", "500"), ["--thinking", "at least 1024"]),
    ("ask: --thinking lots", lambda w: w.ask("hi", "--thinking", "lots"), ["--thinking", "adaptive"]),
    ("compile: --thinking over --max-tokens", lambda w: w.compile("--thinking", "2048"), ["--max-tokens above it"]),
    ("ask: --base-url without a scheme", lambda w: ["ask", "hi", "--base-url", "notaurl"], ["--base-url", "http"]),
]


def run(arguments: list[str]) -> int:
    try:
        return main(arguments)
    except SystemExit as exit:  # argparse refuses its own errors this way
        return exit.code


@pytest.mark.parametrize(("arguments", "fragments"), [pytest.param(a, f, id=i) for i, a, f in CASES])
def test_bad_input_is_refused_in_one_line_with_exit_code_2_and_nothing_written(world, arguments, fragments, capsys):
    argv = arguments(world)
    capsys.readouterr()
    before = sorted(world.tmp.rglob("*"))
    code = run(argv)
    error = capsys.readouterr().err
    lines = [line for line in error.splitlines() if line.strip()]
    assert code == 2, error
    assert len(lines) == 1 and lines[0].startswith("promptgraph: error: "), error
    for fragment in fragments:
        assert fragment in lines[0]
    assert sorted(world.tmp.rglob("*")) == before  # no run directory, command.json, output or report
    assert world.requests == []  # nothing sent, nothing paid for


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column(world, capsys):
    data = world.file("bom.csv", "\ufeff" + GOOD_ROWS)
    assert main(world.evaluate(data=data)) == 0


def test_a_5mb_cell_is_read_and_cut_for_the_prompt_with_a_warning(world, capsys):
    data = world.file("big.csv", "id,text\nr1,short\nr2," + "x" * 5_000_000 + "\n")
    with pytest.warns(UserWarning, match="cut"):
        assert main(world.predict(data=data)) == 0
    assert len(world.requests) == 2
    assert max(len(request.messages[-1].content) for request in world.requests) < 21_000


def test_predict_piped_into_head_stops_quietly_when_the_reader_leaves(tmp_path):
    reader_gone = threading.Event()

    def reply(request):
        if "later" in request.messages[-1].content:
            reader_gone.wait(timeout=60)  # the second chunk is answered only once head has closed the pipe
        return "Label: <label>a</label>"

    texts = tmp_path / "texts.csv"
    texts.write_text("text\n" + "".join(f"{'first' if i < 64 else 'later'} {i}\n" for i in range(80)))
    program = pg.Program.of(pg.Classify(["a", "b"]), name="c").save(tmp_path / "program.json")
    with MessagesServer(reply) as server:
        child = subprocess.Popen(
            [sys.executable, "-m", "promptgraph", "predict", str(program), str(texts)]
            + ["--base-url", server.base_url, "--no-cache", "--max-concurrency", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout.readline().startswith(b"id,label,status")
        child.stdout.close()  # what `head -1` does once it has its line
        reader_gone.set()
        try:
            error = child.stderr.read().decode()
            assert child.wait(timeout=60) == 141  # as a Unix tool killed by SIGPIPE reports
        finally:
            child.kill()  # a failing run must not outlive the test
    assert error == ""
