"""Behaviours a code review found missing; each test fails on the code before its fix."""

import json

import pytest

import promptgraph as pg
from promptgraph import ScriptedLM
from promptgraph.lm import AnthropicLM
from promptgraph.testing import MessagesServer
from promptgraph.trace import UNPARSED
from tests.scenario import FORMAT, KEY_PHRASE, LABELS, classifier, forward_lm, optimizer_lm, questions


def test_a_program_ending_in_chain_of_thought_answers_with_the_answer_not_the_reasoning():
    program = pg.Program.of(pg.ChainOfThought(inputs=("text",), outputs=("answer",)), name="solve")
    lm = ScriptedLM(replies=["<reasoning>2+2 is four</reasoning>\n<answer>4</answer>"])
    assert program.output == "solve.answer"
    assert program("what is 2+2?", lm=lm).value == "4"


def test_the_anthropic_key_is_never_sent_to_another_server(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-REAL-SECRET")
    with MessagesServer(lambda request: "hi") as server:
        seen = []
        lm = AnthropicLM(model="llama", base_url=server.base_url, max_retries=0)
        client = lm._ensure_client()
        client._client.event_hooks["request"].append(lambda request: seen.append(dict(request.headers)))
        lm.complete(pg.Request(messages=[("user", "x")]))
    assert seen and all("sk-ant-REAL-SECRET" not in str(headers) for headers in seen)


def test_a_parser_that_raises_makes_the_reply_unparsed_not_a_crash():
    module = pg.Classify(LABELS, parser=lambda text: text.split("Label:")[1].strip())
    traces = pg.Program.of(module, name="c").run(
        [pg.Example({"text": "q"})], lm=ScriptedLM(replies=["I refuse"]), progress=False
    )
    assert traces[0].status == UNPARSED and "IndexError in the parser" in traces[0].final.outcome.error


def test_a_failed_critic_call_leads_to_no_blind_rewrite():
    program = classifier("")
    traces = program.run(questions(10), lm=forward_lm(), progress=False)
    evaluation = pg.evaluate(traces, labels=LABELS)
    pg.backward(program, traces, evaluation, lm=ScriptedLM())  # every critic call fails
    rewriter = ScriptedLM(replies=["{}"])
    assert pg.TextualGradientDescent(lm=rewriter).rewrite(program, evaluation=evaluation) == []
    assert rewriter.requests == []


def test_an_empty_validation_set_is_refused():
    with pytest.raises(ValueError, match="validation set is empty"):
        pg.compile(classifier(), trainset=questions(20), valset=[], lm=forward_lm(),
                   optimizer=pg.TextualGradientDescent(lm=optimizer_lm()), progress=False)  # fmt: skip


def test_a_worse_update_is_undone_before_the_next_iteration():
    rewrites = iter([f"{KEY_PHRASE} {FORMAT}", f"Be careful. {FORMAT}", f"Be careful. {FORMAT}"])

    def respond(request):
        if request.tag == "critic":
            return json.dumps({"critique": "c", "parameters": {}, "inputs": {}})
        return json.dumps({"values": {"classify.system": next(rewrites)}})

    def forward(request):  # errs on one question whatever the prompt, so every iteration trains
        if "number 0?" in request.messages[-1].content:
            return "<label>insincere</label>"
        return forward_lm().respond(request)

    always_wrong = [pg.Example({"text": "How do I bake bread number 0?"}, "sincere", id=f"w{i}") for i in range(30)]
    result = pg.compile(
        classifier(), trainset=questions(60) + always_wrong, lm=ScriptedLM(respond=forward), optimizer=pg.TextualGradientDescent(lm=ScriptedLM(respond=respond)),
        iterations=3, samples_per_label=8, val_per_label=6, progress=False,
    )  # fmt: skip
    assert [record.kept for record in result.history] == [True, True, False, False]
    # iteration 3 started again from iteration 1's texts, not from iteration 2's worse ones
    assert result.history[3].updates[0].changes["classify.system"][0] == f"{KEY_PHRASE} {FORMAT}"


def test_jsonl_rows_are_each_checked_with_their_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"question": "b", "label": "y"}\n')
    with pytest.raises(pg.DataError, match="line 2 has no column 'text'"):
        pg.load_examples(path)
    path.write_text('{"text": "a", "label": "x"}\n[1, 2]\n')
    with pytest.raises(pg.DataError, match="line 2 is not an object"):
        pg.load_examples(path)
    path.write_text('{"text": "a", "label": null}\n')
    with pytest.raises(pg.DataError, match="line 1 has no label: 'label' is null"):
        pg.load_examples(path)


def test_max_input_chars_survives_save_and_load(tmp_path):
    program = pg.Program.of(pg.Classify(LABELS, max_input_chars=100), name="c")
    assert pg.load(program.save(tmp_path / "p.json")).nodes["c"].max_input_chars == 100


def test_a_demo_with_an_unknown_field_is_refused_before_any_node_changes(tmp_path):
    program = pg.Program(inputs=("text",))
    program.add("first", pg.Generate(inputs=("text",), outputs=("note",), system="one"))
    program.add("second", pg.Classify(LABELS, input="note", system=FORMAT), note="first.note")
    path = program.save(tmp_path / "p.json")
    data = json.loads(path.read_text())
    data["nodes"][0]["parameters"]["system"]["value"] = "changed"
    data["nodes"][1]["demos"]["demos"]["pairs"] = [{"inputs": {"note": "n"}, "output": "o", "extra": 1}]
    path.write_text(json.dumps(data))
    with pytest.raises(pg.LoadError, match="demos 'demos' need"):
        program.load_values(path)
    assert program.values()["first.system"] == "one"


def test_the_critic_sees_a_bounded_number_of_examples_even_with_many_labels():
    examples = [pg.Example({"text": f"q{i}"}, f"answer {i}", id=str(i)) for i in range(300)]
    program = pg.Program.of(pg.Generate(inputs=("text",), outputs=("answer",)), name="qa")
    traces = program.run(examples, lm=ScriptedLM(respond=lambda r: "<answer>?</answer>"), progress=False)
    from promptgraph.backward import CritiqueLimits, select_examples

    assert len(select_examples(traces, pg.evaluate(traces), CritiqueLimits(), seed=0)) == 40


def test_a_function_defined_where_python_cannot_import_it_is_refused_when_saving(tmp_path):
    import types

    module = types.ModuleType("nowhere_to_be_found")
    exec("def shout(text):\n    return text.upper()\n", module.__dict__)
    program = pg.Program.of(pg.Function(module.shout, inputs=("text",), outputs=("loud",)), name="f")
    with pytest.raises(TypeError, match="cannot be saved by name"):
        program.save(tmp_path / "p.json")
