from promptgraph.parameter import Feedback, Parameter


def test_an_update_keeps_the_old_value_in_the_history():
    parameter = Parameter("v1")
    parameter.update("v2")
    parameter.update("v3")
    assert (parameter.value, parameter.history) == ("v3", ["v1", "v2"])


def test_clearing_feedback_empties_it():
    parameter = Parameter("v", feedback=[Feedback("critic", "shorter")])
    parameter.clear_feedback()
    assert parameter.feedback == []
