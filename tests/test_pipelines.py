"""Backprop through graphs: critiques reach every module; merges are deterministic; frozen modules pass feedback on."""

import json

import promptgraph as pg
from promptgraph import (
    Classify,
    Example,
    Function,
    Generate,
    Program,
    ScriptedLM,
    TextualGradientDescent,
    backward,
    evaluate,
)
from promptgraph.formats import LabelTag
from tests.scenario import (
    FORMAT,
    KEY_PHRASE,
    LABELS,
    chain,
    chain_forward,
    graph_critic,
    graph_optimizer_lm,
    questions,
)


def compile_chain(program, **options):
    options = {"iterations": 2, "samples_per_label": 6, "val_per_label": 5, "progress": False} | options
    return pg.compile(
        program,
        trainset=questions(40),
        lm=ScriptedLM(respond=chain_forward),
        optimizer=TextualGradientDescent(lm=graph_optimizer_lm()),
        **options,
    )


def test_the_critique_at_the_loss_reaches_the_first_module_of_a_chain_and_compile_fixes_it():
    result = compile_chain(chain())
    assert result.history[0].val.accuracy == 0.5
    assert result.best.val.accuracy == 1.0
    assert KEY_PHRASE in result.program.nodes["note"].system.value
    critiques = {c.node: c for c in result.history[1].critiques}
    assert [c.node for c in result.history[1].critiques] == ["classify", "summarise", "note"]
    assert "classify needs its summary" in critiques["summarise"].received[0].text
    assert "summarise needs its note" in critiques["note"].received[0].text


def test_a_frozen_module_passes_feedback_on_and_is_never_rewritten():
    result = compile_chain(chain(frozen_tail=True))
    for node in ("summarise", "classify"):
        assert all(not name.startswith(node) for update in result.history[1].updates for name in update.changes)
    assert result.program.nodes["summarise"].system.value == chain(frozen_tail=True).nodes["summarise"].system.value
    assert result.program.nodes["summarise"].system.history == []
    assert [u.node for u in result.history[1].updates] == ["note"]


def test_a_diamond_merges_feedback_from_both_branches_in_a_fixed_order():
    program = Program(inputs=("text",))
    program.add("a", Generate(inputs=("text",), outputs=("fact",)))
    program.add("b", Generate(inputs=("fact",), outputs=("view",)), fact="a.fact")
    program.add("c", Generate(inputs=("fact",), outputs=("view",)), fact="a.fact")
    program.add("d", Generate(inputs=("left", "right"), outputs=("label",)), left="b.view", right="c.view")
    examples = [Example({"text": f"Why do all x{i} lie?"}, "insincere", id=str(i)) for i in range(6)]
    traces = program.run(
        examples, lm=ScriptedLM(respond=lambda r: "<fact>f</fact><view>v</view><label>sincere</label>"), progress=False
    )
    critic = ScriptedLM(respond=graph_critic)
    critiques = backward(program, traces, evaluate(traces), lm=critic)
    assert len(critic.requests) == 4  # one per module on the path from the loss, whatever the number of examples
    a = next(c for c in critiques if c.node == "a")
    assert [item.source for item in a.received] == [
        "critic of c, on a.fact (its input fact)",
        "critic of b, on a.fact (its input fact)",
    ]
    sources = [f.source for f in program.nodes["a"].system.feedback]
    assert sources == ["critic of a"]


def test_critic_calls_per_step_do_not_grow_with_the_minibatch():
    for size in (10, 60):
        program = chain(frozen_tail=False)
        traces = program.run(questions(size), lm=ScriptedLM(respond=chain_forward), progress=False)
        critic = ScriptedLM(respond=graph_critic)
        backward(program, traces, evaluate(traces, labels=LABELS), lm=critic)
        assert len(critic.requests) == 3


def count_words(text):
    return len(text.split())


def test_feedback_passes_through_a_function_unchanged_and_labelled():
    program = Program(inputs=("text",))
    program.add("note", Generate(inputs=("text",), outputs=("note",)))
    program.add(
        "length",
        Function(lambda note: f"{note} ({count_words(note)} words)", inputs=("note",), outputs=("summary",)),
        note="note.note",
    )
    program.add("classify", Classify(LABELS, input="summary", system=FORMAT), summary="length.summary")
    traces = program.run(questions(6), lm=ScriptedLM(respond=chain_forward), progress=False)
    critic = ScriptedLM(respond=graph_critic)
    critiques = backward(program, traces, evaluate(traces, labels=LABELS), lm=critic)
    assert len(critic.requests) == 2  # the function costs no call
    passed = next(c for c in critiques if c.node == "length")
    assert passed.passed_through
    note = next(c for c in critiques if c.node == "note")
    assert note.received[0].source == "critic of classify, on length.summary (its input summary), passed through length"
    assert "classify needs its summary" in note.received[0].text


def test_a_compiled_program_is_a_stage_that_keeps_its_values_and_can_be_frozen(tmp_path):
    inner = compile_chain(chain(frozen_tail=True)).program
    trained = inner.values()
    outer = Program(inputs=("text",)).add("stage", inner.freeze())
    outer.add("final", Generate(inputs=("label",), outputs=("label",)), label="stage.label")
    assert {
        name.split(".", 1)[1]: value for name, value in outer.values().items() if name.startswith("stage.")
    } == trained
    loaded = pg.load(outer.save(tmp_path / "nested.json"))
    assert loaded.values() == outer.values()
    assert all(not p.trainable for p in loaded.nodes["stage"].parameters())
    answer = loaded.nodes["stage"](Example({"text": "Why are all cats mean?"}), lm=ScriptedLM(respond=chain_forward))
    assert answer.label == "insincere"


def test_a_nested_stage_can_be_trained_further_and_its_checks_still_apply():
    inner = Program.of(Classify(LABELS, system=FORMAT, format=LabelTag(stated=False)), name="classify")
    outer = Program(inputs=("text",)).add("stage", inner)
    rewriter = ScriptedLM(replies=[json.dumps({"values": {"stage.classify.system": "Answer."}})] * 2)
    outer.nodes["stage"].nodes["classify"].system.feedback.append(pg.Feedback("critic", "shorter"))
    updates = TextualGradientDescent(lm=rewriter).rewrite(outer, evaluation=evaluate([]))
    assert updates[0].status == "rejected"
    assert "classify: no prompt asks" in updates[0].error
