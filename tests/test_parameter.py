from promptgraph.parameter import Demo, Demos, Feedback, Parameter


def test_an_update_keeps_the_old_value_in_the_history():
    parameter = Parameter("v1")
    parameter.update("v2")
    parameter.update("v3")
    assert (parameter.value, parameter.history) == ("v3", ["v1", "v2"])


def test_clearing_feedback_empties_it():
    parameter = Parameter("v", feedback=[Feedback("critic", "shorter")])
    parameter.clear_feedback()
    assert parameter.feedback == []


def test_a_parameter_repr_shows_its_name_the_start_of_its_value_and_whether_it_trains():
    parameter = Parameter("Answer briefly and always end with a label tag, please.", name="classify.system")
    assert repr(parameter) == (
        "Parameter(name='classify.system', value='Answer briefly and always end with a lab…', trainable=True)"
    )


def test_an_unnamed_parameter_repr_leaves_the_name_out():
    assert repr(Parameter("v1", trainable=False)) == "Parameter(value='v1', trainable=False)"


def test_a_parameter_repr_stays_short_however_long_its_history():
    parameter = Parameter("x" * 10_000, feedback=[Feedback("critic", "y" * 10_000)])
    for _ in range(50):
        parameter.update("z" * 10_000)
    assert len(repr(parameter)) < 100


def test_a_demos_repr_counts_its_pairs():
    demos = Demos([Demo({"text": "a"}, "b"), Demo({"text": "c"}, "d")])
    assert repr(demos) == "Demos(pairs=2, trainable=True)"


def test_a_demo_repr_shortens_long_inputs_and_output():
    demo = Demo({"text": "q" * 500}, "a" * 500)
    assert repr(demo) == f"Demo(inputs={{'text': '{'q' * 40}…'}}, output='{'a' * 40}…')"


def test_a_feedback_repr_shows_the_start_of_its_text():
    assert (
        repr(Feedback("critic of classify", "s" * 500)) == f"Feedback(source='critic of classify', text='{'s' * 40}…')"
    )
