import pytest

import promptgraph as pg
from promptgraph import ChainOfThought, Context, Generate, ScriptedLM
from promptgraph.formats import Tags
from promptgraph.modules.generate import read_tags
from promptgraph.signature import Signature
from promptgraph.trace import OK, UNPARSED


def run(module, reply, **inputs):
    return module.forward(inputs or {"text": "x"}, Context(lm=ScriptedLM(replies=[reply])))


def test_fields_are_read_from_their_tags_the_last_one_winning():
    assert read_tags("<a>draft</a> <a> final </a><b>2</b>", ["a", "b"]) == {"a": "final", "b": "2"}


def test_a_missing_field_makes_the_reply_unparsed_and_names_it():
    outcome = run(Generate(outputs=("reasoning", "answer")), "<answer>4</answer>")
    assert outcome.status == UNPARSED
    assert "<reasoning>" in outcome.error


def test_several_inputs_and_outputs():
    module = Generate(inputs=("question", "context"), outputs=("reasoning", "answer"))
    outcome = run(module, "<reasoning>r</reasoning><answer>a</answer>", question="q", context="c")
    assert (outcome.status, outcome.outputs) == (OK, {"reasoning": "r", "answer": "a"})


def test_the_layout_instruction_is_fixed_not_a_parameter():
    module = Generate(outputs=("answer",))
    assert "<answer>...</answer>" in module.render({"text": "x"}).messages[0].content
    assert [name for name, _ in module.named_parameters()] == ["system", "prefix", "suffix"]


def test_chain_of_thought_asks_for_reasoning_first_and_outputs_it():
    module = ChainOfThought(inputs=("question",), outputs=("answer",))
    assert module.outputs == ("reasoning", "answer")
    assert "step by step" in module.render({"question": "q"}).messages[0].content


def test_a_user_parser_must_return_every_field():
    module = Generate(outputs=("a", "b"), parser=lambda text: {"a": text})
    assert run(module, "x").status == UNPARSED


@pytest.mark.parametrize(
    "module", [Generate(inputs=("q",), outputs=("a", "b")), ChainOfThought(inputs=("q",), outputs=("a",))]
)
def test_generate_modules_round_trip_through_save(tmp_path, module):
    loaded = pg.load(pg.Program.of(module, name="m").save(tmp_path / "p.json"))
    assert loaded.nodes["m"].outputs == module.outputs
    assert loaded.nodes["m"].render({"q": "x"}) == module.render({"q": "x"})


def test_a_generate_repr_shows_its_signature_and_system_prompt():
    assert repr(Generate(inputs=("question",), outputs=("answer",), system="Answer briefly.")) == (
        "Generate('question -> answer', system='Answer briefly.')"
    )


def test_a_chain_of_thought_repr_shows_its_reasoning_output():
    assert repr(ChainOfThought(system="")) == "ChainOfThought('text -> reasoning, answer', system='')"


def test_a_generate_request_holds_the_reply_to_its_tags_grammar_unless_a_user_parser_reads_it():
    signature = "question -> answer, score: int"
    assert Generate(signature).render({"question": "q"}).grammar == Tags().grammar(Signature.of(signature))
    assert (
        Generate(signature, parser=lambda text: {"answer": text, "score": 1}).render({"question": "q"}).grammar is None
    )
