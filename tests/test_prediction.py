"""What `program(inputs)` returns: the outputs by name, the answer, the trace."""

import pickle

import pytest

import promptgraph as pg
from promptgraph.lm import ScriptedLM


def grader() -> pg.Program:
    return pg.Program.of(pg.Generate(inputs=("question",), outputs={"answer": str, "score": int}), name="grade")


def test_outputs_are_attributes_typed_as_the_signature_says():
    result = grader()("What is 2+2?", lm=ScriptedLM(replies=["<answer>4</answer><score>9</score>"]))
    assert (result.answer, result.score) == ("4", 9)
    assert result.outputs == {"answer": "4", "score": 9}
    assert result.trace.status == "ok" and result.value == "4"


def test_a_missing_output_names_the_ones_there_are():
    result = grader()("q", lm=ScriptedLM(replies=["<answer>4</answer><score>9</score>"]))
    with pytest.raises(AttributeError, match="no output 'label' .its outputs: answer, score"):
        _ = result.label


def test_an_unread_answer_has_no_outputs_and_says_why():
    result = grader()("q", lm=ScriptedLM(replies=["no tags at all"]))
    assert result.outputs == {} and result.value is None
    with pytest.raises(AttributeError, match="the final node is unparsed"):
        _ = result.answer


def test_run_results_give_outputs_by_name_too():
    program = pg.Program.of(pg.Classify(["a", "b"]), name="c")
    (trace,) = program.run([pg.Example({"text": "x"})], lm=ScriptedLM(replies=["Label: <label>b</label>"]))
    assert trace.label == "b"


def test_comparing_with_a_plain_answer_still_works_for_one_release_and_warns():
    program = pg.Program.of(pg.Classify(["yes", "no"]), name="c")
    result = program("is it?", lm=ScriptedLM(replies=["Label: <label>no</label>"]))
    with pytest.warns(DeprecationWarning, match=r"compare its \.value"):
        assert result == "no"
    assert str(result) == "no" and repr(result) == "Prediction(label='no')"


def test_a_trace_still_pickles_and_copies():
    program = pg.Program.of(pg.Classify(["a", "b"]), name="c")
    (trace,) = program.run([pg.Example({"text": "x"})], lm=ScriptedLM(replies=["Label: <label>b</label>"]))
    assert pickle.loads(pickle.dumps(trace)).label == "b"
