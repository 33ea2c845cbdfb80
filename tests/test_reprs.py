"""Every public object's repr is short, names its type, and never falls back to `<... object at 0x...>`.

A repr is read in a notebook cell, a traceback or a log line: one that prints every
example of a run hides what it was meant to show. The objects here are built small, or
taken from a scripted run, and each class exported by `promptgraph` must have a maker
below, so a new export cannot slip through without a readable repr.
"""

from __future__ import annotations

import inspect
import json

import pytest

import promptgraph as pg
from tests.scenario import questions
from tests.test_compile import train

LONGEST = 200  # one line of a notebook, whatever the run's size
LONG_TEXT = "Decide whether the question is asked in good faith. " * 20  # a long trained prompt

# Not instantiated: protocols and abstract bases; their implementations are.
ABSTRACT = {"LM", "Executor", "Module"}


@pytest.fixture(scope="module")
def run() -> pg.CompileResult:
    return train(iterations=3, examples=questions(200), samples_per_label=40, val_per_label=40)


def pipeline() -> pg.Program:
    program = pg.Program(inputs=("text",))
    program.add("premises", pg.Generate("text -> premises", system=LONG_TEXT))
    labels = ["sincere", "insincere"]
    classify = pg.Classify(labels, inputs=("text", "premises"), system=LONG_TEXT)
    program.add("classify", classify, premises="premises.premises")
    return program


def makers(run: pg.CompileResult, tmp_path) -> dict:
    """A small instance of every public class, by name; each made only when called, so the names can be read alone."""
    scripted = pg.ScriptedLM(replies=["Label: <label>sincere</label>"])
    request = pg.Request(messages=[("user", LONG_TEXT)], system=LONG_TEXT)
    return {
        "AnthropicLM": lambda: pg.AnthropicLM(api_key="sk-secret"),
        "Baseline": lambda: pg.tfidf_baseline(
            questions(40), questions(20), labels=("sincere", "insincere"), inputs=("text",)
        ),
        "BatchExecutor": pg.BatchExecutor,
        "BatchedLM": lambda: pg.BatchedLM(scripted),
        "Batching": pg.Batching,
        "BeamSearch": lambda: pg.BeamSearch(lm=scripted),
        "BootstrapDemos": pg.BootstrapDemos,
        "CachedLM": lambda: pg.CachedLM(scripted, directory=tmp_path / "cache"),
        "Chain": lambda: pg.Chain(pg.BootstrapDemos(), pg.TextualGradientDescent(lm=scripted)),
        "ChainOfThought": lambda: pg.ChainOfThought("question -> answer", system=LONG_TEXT),
        "Classes": lambda: pg.Classes({f"class{i}": LONG_TEXT for i in range(50)}),
        "Classify": lambda: pg.Classify([f"label{i}" for i in range(100)], system=LONG_TEXT),
        "CompileResult": lambda: run,
        "Context": lambda: pg.Context(lm=scripted, ledger=run.ledger),
        "Critique": lambda: run.history[1].critiques[0],
        "CritiqueLimits": pg.CritiqueLimits,
        "ArgumentError": lambda: pg.ArgumentError("iterations must be >= 0, not -1"),
        "DataError": lambda: pg.DataError("row 3 of data.csv: no label; add one"),
        "Demo": lambda: pg.Demo({"text": LONG_TEXT}, LONG_TEXT),
        "DemoSearch": pg.DemoSearch,
        "Demos": lambda: pg.Demos([pg.Demo({"text": LONG_TEXT}, "sincere")] * 50),
        "Evaluation": lambda: run.history[1].val,
        "Example": lambda: pg.Example({f"field{i}": LONG_TEXT for i in range(20)}, "sincere", note=LONG_TEXT),
        "Failure": lambda: pg.Failure(request, pg.LMError(LONG_TEXT, model="claude-haiku-5-5")),
        "Feedback": lambda: pg.Feedback("classify", LONG_TEXT),
        "Field": lambda: pg.Field("answer", description=LONG_TEXT),
        "Function": lambda: pg.Function(json.dumps, inputs=["text"], outputs=["json"]),
        "Gate": pg.Gate,
        "Generate": lambda: pg.Generate("question -> answer", system=LONG_TEXT),
        "GraphError": lambda: pg.GraphError("node 'x' has no input 'y'"),
        "IterationRecord": lambda: run.history[1],
        "JSONSchema": pg.JSONSchema,
        "LMError": lambda: pg.LMError("rate limited", status=429),
        "LabelTag": pg.LabelTag,
        "Ledger": lambda: run.ledger,
        "LoadError": lambda: pg.LoadError("program.json: not a program"),
        "MetricError": lambda: pg.MetricError("the metric m returned None on valset example 'q1'"),
        "NothingToTrain": lambda: pg.NothingToTrain("nothing to train: every text is frozen"),
        "KNNDemos": lambda: pg.KNNDemos(k=6),
        "LocalServer": pg.LocalServer,
        "OPRO": lambda: pg.OPRO(lm=scripted),
        "ParetoSearch": lambda: pg.ParetoSearch(lm=scripted),
        "Parameter": lambda: pg.Parameter(LONG_TEXT, role=LONG_TEXT, name="classify.system"),
        "ParseError": lambda: pg.ParseError("no label found"),
        "Prediction": lambda: pg.Prediction(run.history[1].samples[0]),
        "Program": pipeline,
        "ProgressPrinter": lambda: pg.ProgressPrinter(iterations=5),
        "Prompt": lambda: pg.Prompt("question, context -> answer", system=LONG_TEXT),
        "PromptgraphError": lambda: pg.PromptgraphError("something went wrong"),
        "ProposeInstructions": lambda: pg.ProposeInstructions(lm=scripted),
        "ReportWriter": lambda: pg.ReportWriter(tmp_path / "report"),
        "Request": lambda: request,
        "Response": lambda: pg.Response(text=LONG_TEXT, stop_reason="end_turn", usage=pg.Usage(10, 5), model="m"),
        "Retriever": lambda: pg.Retriever(k=6),
        "ScriptedLM": lambda: scripted,
        "Score": lambda: pg.Score(0.5, LONG_TEXT, module="classify"),
        "Signature": lambda: pg.Signature.of(", ".join(f"field{i}" for i in range(40)) + " -> answer"),
        "SignatureError": lambda: pg.SignatureError("bad signature"),
        "Synthesized": lambda: pg.Synthesized(tuple(questions(200)), {"sincere": {"kept": 100}}, ()),
        "Tags": pg.Tags,
        "Text": pg.Text,
        "TextualGradientDescent": lambda: pg.TextualGradientDescent(lm=scripted),
        "ThreadExecutor": pg.ThreadExecutor,
        "Trace": lambda: run.history[1].samples[0],
        "Usage": lambda: pg.Usage(1000, 200, 30, 40),
    }


def public_classes() -> list[str]:
    return sorted(name for name in pg.__all__ if inspect.isclass(getattr(pg, name)) and name not in ABSTRACT)


def test_every_public_class_has_a_maker_here():
    assert set(public_classes()) - set(makers(run=None, tmp_path=None)) == set()


def reached(run: pg.CompileResult) -> dict:
    """Objects a user reaches from a run without importing their classes: a node's trace, an account, an update."""
    record = run.history[1]
    node = record.samples[0].nodes["classify"]
    return {
        "NodeTrace": node,
        "Outcome": node.outcome,
        "Account": run.ledger.accounts()[0],
        "Update": record.updates[0],
        "LabelScores": record.val.per_label["sincere"],
    }


@pytest.mark.parametrize("name", ["NodeTrace", "Outcome", "Account", "Update", "LabelScores"])
def test_an_object_reached_from_a_run_has_a_short_repr_that_names_its_type(name, run):
    shown = repr(reached(run)[name])
    assert len(shown) <= LONGEST and shown.startswith(f"{name}("), shown


@pytest.mark.parametrize("name", public_classes())
def test_a_public_objects_repr_is_short_and_names_its_type(name, run, tmp_path):
    made = makers(run, tmp_path)[name]()
    shown = repr(made)
    assert len(shown) <= LONGEST, shown
    assert "object at 0x" not in shown
    assert shown.startswith(type(made).__name__), shown


def test_a_report_writer_shows_its_directory_as_a_plain_path():
    assert repr(pg.ReportWriter("runs/today")) == "ReportWriter('runs/today')"
    assert repr(pg.ReportWriter("runs/today", title="mine")) == "ReportWriter('runs/today', title='mine')"
