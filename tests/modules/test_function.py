import promptgraph as pg
from promptgraph import Context, Function, ScriptedLM
from promptgraph.trace import FAILED, OK


def shout(text):
    return text.upper()


def split(text):
    head, _, tail = text.partition(" ")
    return {"head": head, "tail": tail}


def run(module, **inputs):
    return module.forward(inputs, Context(lm=ScriptedLM()))


def test_a_single_output_takes_the_return_value():
    assert run(Function(shout, inputs=("text",), outputs=("loud",)), text="hi").outputs == {"loud": "HI"}


def test_several_outputs_come_from_a_returned_mapping():
    assert run(Function(split, inputs=("text",), outputs=("head", "tail")), text="a b c").outputs == {
        "head": "a",
        "tail": "b c",
    }


def test_an_exception_is_a_failed_outcome_with_the_error():
    outcome = run(Function(shout, inputs=("text",), outputs=("loud",)), text=3)
    assert outcome.status == FAILED
    assert "AttributeError in shout" in outcome.error


def test_a_missing_output_is_a_failed_outcome():
    outcome = run(Function(split, inputs=("text",), outputs=("head", "middle")), text="a b")
    assert (outcome.status, outcome.error) == (FAILED, "the function returned no middle")


def test_it_has_nothing_to_train_and_passes_feedback_through():
    module = Function(shout, inputs=("text",), outputs=("loud",))
    assert module.parameters() == [] and module.passes_feedback


def test_a_function_is_saved_by_name_and_imported_again_when_trusted(tmp_path):
    program = pg.Program.of(Function(shout, inputs=("text",), outputs=("loud",)), name="f")
    loaded = pg.load(program.save(tmp_path / "p.json"), trust_code=True)
    assert loaded("hey", lm=ScriptedLM()).value == "HEY"
    assert run(Function(shout, inputs=("text",), outputs=("loud",)), text="ok").status == OK


def test_a_function_repr_names_the_function_and_its_fields():
    assert repr(Function(shout, inputs=("text",), outputs=("loud",))) == (
        "Function(shout, inputs=['text'], outputs=['loud'])"
    )
