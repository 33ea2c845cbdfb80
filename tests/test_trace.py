from promptgraph.data import Example
from promptgraph.lm import Response, Usage
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


def test_a_node_trace_repr_names_its_inputs_and_shows_its_outputs_not_the_request():
    node = one(OK, {"label": "sincere"}).nodes["classify"]
    assert repr(node) == "NodeTrace(node='classify', inputs=['text'], status='ok', outputs={'label': 'sincere'})"


def test_an_unparsed_outcome_repr_shows_the_start_of_the_reply_and_the_error():
    reply = Response(text="I think it is fine. " * 100, stop_reason="end_turn", usage=Usage(10, 5), model="m")
    outcome = Outcome(UNPARSED, response=reply, error="no label found")
    assert repr(outcome) == (
        "Outcome(status='unparsed', reply='I think it is fine. I think it is fine. …', error='no label found')"
    )
