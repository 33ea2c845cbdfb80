"""One constructor convention: a prompt module takes its signature by position and everything else by keyword."""

import inspect

import pytest

from promptgraph import ChainOfThought, Classify, Generate, Prompt


@pytest.mark.parametrize("kind", [Prompt, Classify, Generate, ChainOfThought])
def test_every_prompt_module_takes_only_its_signature_by_position(kind):
    parameters = list(inspect.signature(kind.__init__).parameters.values())[2:]  # after self and the signature
    named = [parameter for parameter in parameters if parameter.kind != inspect.Parameter.VAR_POSITIONAL]
    assert all(parameter.kind in (parameter.KEYWORD_ONLY, parameter.VAR_KEYWORD) for parameter in named)


@pytest.mark.parametrize("kind", [Generate, ChainOfThought])
def test_inputs_and_outputs_by_keyword_build_the_module_without_a_warning(kind, recwarn):
    module = kind(inputs=("question",), outputs={"answer": str, "score": int})
    assert (module.inputs, module.outputs[-2:]) == (("question",), ("answer", "score"))
    assert not [warning for warning in recwarn if warning.category is DeprecationWarning]


@pytest.mark.parametrize("kind", [Generate, ChainOfThought])
def test_the_old_positional_form_warns_naming_the_keywords_and_builds_the_same_module(kind):
    with pytest.warns(DeprecationWarning, match=r"write \w+\(inputs=\.\.\., outputs=\.\.\.\)"):
        old = kind(("question",), ("answer",), system="Be brief.")
    new = kind(inputs=("question",), outputs=("answer",), system="Be brief.")
    assert (repr(old), old.config(), old.render({"question": "q"})) == (
        repr(new), new.config(), new.render({"question": "q"})
    )  # fmt: skip


def test_old_positional_inputs_alone_warn_naming_inputs():
    with pytest.warns(DeprecationWarning, match=r"write Generate\(inputs=\.\.\.\)"):
        module = Generate(("question", "context"))
    assert module.config() == Generate(inputs=("question", "context")).config()


def test_the_warning_points_at_the_callers_line():
    with pytest.warns(DeprecationWarning) as warned:
        Generate(("question",), ("answer",))
    assert warned[0].filename == __file__


def test_inputs_given_by_position_and_by_keyword_are_refused():
    with pytest.raises(TypeError, match="inputs both by position and by keyword"):
        Generate(("question",), inputs=("context",))


def test_more_positional_arguments_than_the_old_form_took_are_refused():
    with pytest.raises(TypeError, match="takes a signature and keywords"):
        Generate(("question",), ("answer",), "system prompt")
