from promptgraph.data import Example
from promptgraph.trace import OK, UNPARSED, NodeTrace, Outcome, Trace


def one(status, outputs=None, id="q7"):
    node = NodeTrace("classify", {"text": "t" * 5000}, Outcome(status, outputs=outputs or {}))
    return Trace(Example({"text": "t" * 5000}, "sincere", id=id), {"classify": node}, output="classify.label")


def test_a_trace_repr_names_the_example_its_nodes_status_and_prediction():
    assert repr(one(OK, {"label": "sincere"})) == (
        "Trace(example='q7', nodes=['classify'], status='ok', prediction='sincere')"
    )


def test_a_trace_repr_without_an_answer_says_so_in_its_status():
    assert repr(one(UNPARSED)) == "Trace(example='q7', nodes=['classify'], status='unparsed', prediction=None)"


def test_a_trace_repr_stays_short_for_long_inputs_and_answers():
    assert len(repr(one(OK, {"label": "a" * 5000}, id=""))) < 200
