import json

import attrs
import pytest

import promptgraph as pg
from promptgraph import Classify, Example, Feedback, Program, Prompt, ScriptedLM, backward, evaluate, prompts
from promptgraph.backward import CritiqueLimits, FeedbackError, select_examples
from promptgraph.trace import OK, Outcome
from tests.scenario import FORMAT, LABELS, classifier, forward_lm, graph_critic, questions


def run(program, examples):
    traces = program.run(examples, lm=forward_lm(), progress=False)
    return traces, evaluate(traces, labels=LABELS)


def critic(parameters=None, inputs=None, critique="too vague"):
    def respond(request):
        return json.dumps({"critique": critique, "parameters": parameters or {}, "inputs": inputs or {}})

    return ScriptedLM(respond=respond)


def test_mistakes_are_drawn_per_true_label_and_capped():
    traces, evaluation = run(classifier(), questions(60))  # all 30 insincere ones are wrong
    chosen = select_examples(traces, evaluation, CritiqueLimits(mistakes_per_label=4, correct_per_label=2), seed=0)
    wrong = [i for i in chosen if evaluation.scores[i] < 1]
    right = [i for i in chosen if evaluation.scores[i] == 1]
    assert len(wrong) == 4 and all(traces[i].example.label == "insincere" for i in wrong)
    assert len(right) == 2


def test_every_confusion_cell_of_a_label_is_represented():
    examples = [Example({"text": f"t{i}"}, "a", id=str(i)) for i in range(12)]
    replies = {f"t{i}": ("<label>b</label>" if i < 8 else "no tag") for i in range(12)}
    program = Program.of(Classify(["a", "b"]), name="c")
    text = lambda request: request.messages[0].content.split("\n\n")[0]  # noqa: E731  # the input, before the format
    traces = program.run(examples, lm=ScriptedLM(respond=lambda r: replies[text(r)]), progress=False)
    evaluation = evaluate(traces, labels=["a", "b"])
    chosen = select_examples(traces, evaluation, CritiqueLimits(mistakes_per_label=4), seed=0)
    assert sorted(traces[i].status for i in chosen) == ["ok", "ok", "unparsed", "unparsed"]


def test_the_selection_is_the_same_for_the_same_seed():
    traces, evaluation = run(classifier(), questions(60))
    assert select_examples(traces, evaluation, CritiqueLimits(), seed=3) == select_examples(
        traces, evaluation, CritiqueLimits(), seed=3
    )


def test_feedback_lands_on_every_trainable_parameter_of_the_module():
    program = classifier()
    traces, evaluation = run(program, questions(20))
    backward(program, traces, evaluation, lm=critic({"classify.system": "name the rule"}))
    system = program.nodes["classify"].system
    assert [f.text for f in system.feedback] == ["name the rule"]
    assert [f.text for f in program.nodes["classify"].prefix.feedback] == ["too vague"]  # the overall critique


def test_a_frozen_parameter_gets_no_feedback():
    program = classifier()
    program.nodes["classify"].prefix.trainable = False
    traces, evaluation = run(program, questions(20))
    backward(program, traces, evaluation, lm=critic())
    assert program.nodes["classify"].prefix.feedback == []


def test_one_critic_call_per_module_whatever_the_minibatch_size():
    for size in (10, 80):
        program = classifier()
        traces, evaluation = run(program, questions(size))
        lm = critic()
        backward(program, traces, evaluation, lm=lm)
        assert len(lm.requests) == 1


def test_the_critic_prompt_is_bounded_as_examples_grow():
    sizes = []
    for count in (40, 400):
        program = classifier()
        traces, evaluation = run(program, questions(count))
        lm = critic()
        backward(program, traces, evaluation, lm=lm)
        sizes.append(len(lm.requests[0].messages[0].content))
    assert sizes[1] < sizes[0] * 1.1


def test_the_critic_sees_text_response_labels_and_note():
    program = classifier()
    examples = [Example({"text": "Why are all cats mean?"}, "insincere", note="a slur on cats", id="n1")]
    traces, evaluation = run(program, examples)
    lm = critic()
    backward(program, traces, evaluation, lm=lm)
    prompt = lm.requests[0].messages[0].content
    for expected in (
        "Why are all cats mean?",
        "a slur on cats",
        "expected insincere",
        "answered sincere",
        "Label: <label>sincere</label>",
    ):
        assert expected in prompt


def test_feedback_on_an_input_flows_to_the_module_that_produced_it():
    program = Program(inputs=("text",))
    program.add("summarise", Prompt(inputs=("text",), outputs=("summary",)))
    program.add("classify", Classify(["sincere", "insincere"], input="summary"), summary="summarise.summary")
    traces, evaluation = run(program, questions(10))

    def respond(request):
        if prompts.read(request.messages[0].content).step == "classify":
            return json.dumps({"critique": "c", "parameters": {}, "inputs": {"summary": "keep the group named"}})
        return json.dumps({"critique": "s", "parameters": {}, "inputs": {}})

    lm = ScriptedLM(respond=respond)
    critiques = backward(program, traces, evaluation, lm=lm)
    assert [c.node for c in critiques] == ["classify", "summarise"]
    assert "keep the group named" in lm.requests[1].messages[0].content


def test_a_malformed_critic_reply_is_kept_as_prose_and_marked():
    program = classifier()
    traces, evaluation = run(program, questions(10))
    critiques = backward(program, traces, evaluation, lm=ScriptedLM(replies=["prose one", "prose two"]))
    assert critiques[0].text == "prose two"
    assert critiques[0].error
    assert program.nodes["classify"].system.feedback[0].text == "prose two"


@pytest.mark.parametrize("bad", [{"critique": 3}, {"critique": "x", "parameters": {"nope.system": "y"}}])
def test_replies_of_the_wrong_shape_are_repaired(bad):
    lm = ScriptedLM(replies=[json.dumps(bad), json.dumps({"critique": "fine", "parameters": {}, "inputs": {}})])
    program = classifier()
    traces, evaluation = run(program, questions(10))
    critiques = backward(program, traces, evaluation, lm=lm)
    assert (critiques[0].text, critiques[0].error, len(lm.requests)) == ("fine", None, 2)


def test_canonical_examples_are_in_every_critique_sample_even_when_right():
    examples = [attrs.evolve(e, always=e.id in ("q0", "q2")) for e in questions(60)]
    traces, evaluation = run(classifier(), examples)
    for seed in range(5):
        chosen = select_examples(traces, evaluation, CritiqueLimits(max_examples=6), seed=seed)
        assert {traces[i].example.id for i in chosen} >= {"q0", "q2"} and len(chosen) == 6


def test_a_critique_repr_shows_its_node_the_start_of_its_text_and_what_it_reached():
    from promptgraph import Critique

    critique = Critique(
        node="classify", text="t" * 5000, parameters={"classify.system": "f" * 5000}, inputs={},
        example_ids=tuple(f"q{i}" for i in range(40)), replies=("r" * 5000,),
    )  # fmt: skip
    assert (
        repr(critique) == f"Critique(node='classify', text='{'t' * 40}…', parameters=['classify.system'], examples=40)"
    )


class NoteOnly(pg.Module):
    """Joins a note and an aside; its own rule says only the note can fix what its output gets wrong."""

    inputs, outputs = ("note", "aside"), ("summary",)

    def forward(self, inputs, ctx):
        return Outcome(OK, outputs={"summary": f"{inputs['note']} / {inputs['aside']}"})

    def pass_feedback(self, received):
        return {"note": [Feedback("join's rule", f"only the note matters: {item.text}") for item in received]}


def joined_forward(request):
    content = request.messages[-1].content
    for field in ("note", "aside"):
        if f"<{field}>" in content:
            return f"<{field}>x</{field}>"
    return "Label: <label>sincere</label>"


def joined() -> Program:
    program = Program(inputs=("text",))
    program.add("note", pg.Generate(inputs=("text",), outputs=("note",)))
    program.add("other", pg.Generate(inputs=("text",), outputs=("aside",)))
    program.add("join", NoteOnly(), note="note.note", aside="other.aside")
    program.add("classify", Classify(LABELS, input="summary", system=FORMAT), summary="join.summary")
    return program


def test_a_module_that_overrides_pass_feedback_decides_what_reaches_each_input():
    program = joined()
    traces = program.run(questions(6), lm=ScriptedLM(respond=joined_forward), progress=False)
    critiques = backward(program, traces, evaluate(traces, labels=LABELS), lm=ScriptedLM(respond=graph_critic))
    received = {c.node: c.received for c in critiques}
    (item,) = received["note"]
    assert item.source == "join's rule, passed through join"
    assert item.text.startswith("only the note matters: classify needs its summary")
    assert received["other"] == ()  # still on the path to the loss, but handed nothing


class OldStyle(pg.Module):
    inputs, outputs = ("note",), ("summary",)
    passes_feedback = True  # the spelling before Module.pass_feedback

    def forward(self, inputs, ctx):
        return Outcome(OK, outputs={"summary": inputs["note"]})


def test_the_old_passes_feedback_flag_still_hands_everything_on_with_a_deprecation_warning():
    received = (Feedback("critic of classify", "say more"),)
    with pytest.warns(DeprecationWarning, match="override Module.pass_feedback"):
        assert OldStyle().pass_feedback(received) == {"note": list(received)}


def test_a_module_asks_for_a_critic_by_default():
    assert classifier().nodes["classify"].pass_feedback((Feedback("critic", "x"),)) is None


# -- the metric's feedback reaches the critic --------------------------------------------


def critic_requests(lm):
    return [request for request in lm.requests if request.tag == prompts.CRITIC]


def shown_feedback(lm):
    """Step -> the metric feedback each example of that step's critic request carries."""
    return {
        prompts.read(request.messages[0].content).step: prompts.read_feedback(request.messages[0].content)
        for request in critic_requests(lm)
    }


def with_feedback(examples, metric, program=None):
    program = program or classifier()
    traces = program.run(examples, lm=forward_lm(), progress=False)
    return program, traces, evaluate(traces, metric=metric, labels=LABELS)


def test_a_metrics_feedback_reaches_the_critic_beside_its_example():
    def metric(example, prediction):
        return pg.Score(float(prediction == example.label), feedback=f"because of {example.id}")

    program, traces, evaluation = with_feedback(questions(6), metric)
    lm = critic()
    backward(program, traces, evaluation, lm=lm)
    for example in prompts.read(critic_requests(lm)[0].messages[0].content).examples:
        assert (
            example.feedback == f"because of {next(t.example.id for t in traces if t.example.inputs == example.inputs)}"
        )


def test_exact_matchs_feedback_tells_the_critic_what_was_expected():
    program, traces, evaluation = with_feedback(questions(6), pg.exact_match)
    lm = critic()
    backward(program, traces, evaluation, lm=lm)
    wrong = [e for e in prompts.read(critic_requests(lm)[0].messages[0].content).examples if not e.correct]
    assert wrong and all(e.feedback == "expected 'insincere', got 'sincere'" for e in wrong)


def pipeline():
    program = Program(inputs=("text",))
    program.add("summarise", Prompt(inputs=("text",), outputs=("summary",)))
    program.add("classify", Classify(["sincere", "insincere"], input="summary"), summary="summarise.summary")
    return program


def test_feedback_naming_a_module_reaches_only_that_modules_critic():
    blame = {0: ("about summarise", "summarise"), 1: ("about classify", "classify"), 2: ("about all", None)}

    def metric(example, prediction):
        text, module = blame[int(example.id[1:]) % 3]
        return pg.Score(0.0, feedback=text, module=module)

    program, traces, evaluation = with_feedback(questions(6), metric, pipeline())
    lm = critic()
    backward(program, traces, evaluation, lm=lm, limits=CritiqueLimits(max_examples=6))
    seen = {step: set(feedback) - {""} for step, feedback in shown_feedback(lm).items()}
    assert seen == {"classify": {"about classify", "about all"}, "summarise": {"about summarise", "about all"}}


def test_feedback_naming_no_step_of_the_program_is_refused_naming_the_steps():
    metric = lambda example, prediction: pg.Score(0.0, feedback="x", module="clasify")  # noqa: E731
    program, traces, evaluation = with_feedback(questions(4), metric)
    lm = critic()
    with pytest.raises(FeedbackError, match=r"'clasify'.*not a module of the program.*: classify"):
        backward(program, traces, evaluation, lm=lm)
    assert not critic_requests(lm)  # refused before the strong model is paid


def nested():
    program = Program(inputs=("text",))
    program.add("stage", pipeline())
    return program


def test_feedback_naming_a_nested_stages_module_by_its_dotted_name_reaches_the_critic_of_that_stage():
    metric = lambda example, prediction: pg.Score(0.0, feedback="MARKER", module="stage.summarise")  # noqa: E731
    program, traces, evaluation = with_feedback(questions(4), metric, nested())
    lm = critic()
    backward(program, traces, evaluation, lm=lm)
    assert set(shown_feedback(lm)["stage"]) == {"(about stage.summarise) MARKER"}


def test_a_misspelled_dotted_name_is_refused_naming_the_nested_modules():
    metric = lambda example, prediction: pg.Score(0.0, feedback="x", module="stage.sumarise")  # noqa: E731
    program, traces, evaluation = with_feedback(questions(4), metric, nested())
    with pytest.raises(FeedbackError, match=r"stage, stage\.summarise, stage\.classify"):
        backward(program, traces, evaluation, lm=critic())


def test_long_metric_feedback_is_clipped_so_the_critic_prompt_stays_bounded():
    metric = lambda example, prediction: pg.Score(0.0, feedback="why " * 10_000)  # noqa: E731
    program, traces, evaluation = with_feedback(questions(10), metric)
    lm = critic()
    limits = CritiqueLimits(chars_per_field=300)
    backward(program, traces, evaluation, lm=lm, limits=limits)
    assert all(len(text) < 300 + 40 for text in shown_feedback(lm)["classify"])  # with the note of what was cut


def test_a_partial_score_is_shown_with_the_verdict():
    metric = lambda example, prediction: pg.Score(0.5, feedback="half")  # noqa: E731
    program, traces, evaluation = with_feedback(questions(2), metric)
    lm = critic()
    backward(program, traces, evaluation, lm=lm)
    assert "WRONG (score 0.50)" in critic_requests(lm)[0].messages[0].content


def test_at_the_cap_mistakes_the_metric_explained_are_shown_before_the_others():
    examples = [Example({"text": f"answer {i}"}, f"label {i}", id=f"e{i}") for i in range(30)]
    explained = {f"e{i}" for i in range(0, 30, 3)}

    def metric(example, prediction):
        return pg.Score(0.0, feedback="missing words" if example.id in explained else "")

    program = Program.of(Prompt(inputs=("text",), outputs=("answer",)), name="answer")
    traces = program.run(examples, lm=ScriptedLM(respond=lambda r: "something"), progress=False)
    evaluation = evaluate(traces, metric=metric)
    for seed in range(3):
        chosen = select_examples(traces, evaluation, CritiqueLimits(max_examples=12), seed=seed)
        assert {traces[i].example.id for i in chosen} >= explained and len(chosen) == 12


def test_within_a_confusion_cell_mistakes_the_metric_explained_are_drawn_first():
    examples = [Example({"text": f"answer {i}"}, "the answer", id=f"e{i}") for i in range(20)]
    explained = {"e3", "e11", "e17"}

    def metric(example, prediction):
        return pg.Score(0.0, feedback="missing words" if example.id in explained else "")

    program = Program.of(Prompt(inputs=("text",), outputs=("answer",)), name="answer")
    traces = program.run(examples, lm=ScriptedLM(respond=lambda r: "something"), progress=False)
    chosen = select_examples(traces, evaluate(traces, metric=metric), CritiqueLimits(mistakes_per_label=3), seed=0)
    assert {traces[i].example.id for i in chosen} == explained


def test_critique_limits_repr_shows_only_the_limits_changed_from_their_defaults():
    assert repr(CritiqueLimits(max_examples=12)) == "CritiqueLimits(max_examples=12)"
