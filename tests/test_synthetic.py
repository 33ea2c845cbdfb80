import json
import random

import pytest

import promptgraph as pg
from promptgraph import prompts
from promptgraph.synthetic import Classes, SynthesisError, synthesize

WORDS = [f"word{n}" for n in range(200)]
DESCRIPTIONS = {
    "correct": "A question followed by an answer that is right.",
    "incorrect": "A question followed by an answer that is wrong.",
}


def scripted(*, repeat: bool = False, broken: str | None = None):
    """Summaries and examples that name their class, phase and number, so tests can trace them."""

    def respond(request):
        shown = prompts.read(request.messages[0].content)
        name, phase = shown.class_name, request.tag.split()[-1]
        if broken == phase:
            return "I would rather not."
        if phase == "expand":
            return json.dumps({"examples": [f"Q: {s}? A: an answer of {name}" for s in shown.summaries]})
        count = 10  # the most one call asks for; synthesize keeps as many as it asked for
        texts = [
            f"{name} {phase} " + " ".join(random.Random(f"{name}{phase}{request.seed}{k}").sample(WORDS, 5))
            for k in range(count)
        ]
        if repeat:
            texts = [texts[0]] * count
        return json.dumps({"summaries": texts})

    return pg.ScriptedLM(respond=respond, model="claude-opus-5-5")


def test_the_three_phases_run_in_order_and_give_balanced_labelled_examples():
    lm = scripted()
    result = synthesize(DESCRIPTIONS, lm=lm, per_class=8, seed=1)
    phases = [request.tag.split()[-1] for request in lm.requests]
    assert phases == sorted(phases, key=["generate", "diversify", "expand"].index)
    assert {example.label for example in result.examples} == {"correct", "incorrect"}
    assert (
        [e.label for e in result.examples].count("correct")
        == [e.label for e in result.examples].count("incorrect")
        == 8
    )
    assert all(e.inputs["text"].startswith("Q: ") for e in result.examples)


def test_the_same_seed_gives_the_same_set_and_another_seed_another_order():
    first, second, other = (synthesize(DESCRIPTIONS, lm=scripted(), per_class=6, seed=s) for s in (3, 3, 4))
    assert first.examples == second.examples
    assert [e.id for e in first.examples] != [e.id for e in other.examples]


def test_duplicates_are_removed_and_the_classes_stay_balanced():
    with pytest.warns(UserWarning, match="balanced"):
        result = synthesize(DESCRIPTIONS, lm=scripted(repeat=True), per_class=8)
    texts = [e.inputs["text"] for e in result.examples]
    assert len(texts) == len(set(texts))
    counts = {name: c["kept"] for name, c in result.counts.items()}
    assert len(set(counts.values())) == 1
    assert all(c["duplicates"] > 0 for c in result.counts.values())


def test_a_class_known_only_from_data_is_learned_too():
    classes = Classes(descriptions=DESCRIPTIONS).add_examples("off-topic", ["Q: What is love? A: Baby don't hurt me."])
    lm = scripted()
    result = synthesize(classes, lm=lm, per_class=4)
    assert "off-topic" in {example.label for example in result.examples}
    asked = [
        r.messages[0].content for r in lm.requests if prompts.read(r.messages[0].content).class_name == "off-topic"
    ]
    assert "no description" in asked[0] and "What is love?" in asked[0]


def test_a_malformed_reply_is_skipped_with_a_warning_and_the_job_goes_on():
    with pytest.warns(UserWarning) as warned:
        result = synthesize(DESCRIPTIONS, lm=scripted(broken="diversify"), per_class=6)
    assert any("diversify for 'correct': skipped" in str(w.message) for w in warned)
    assert result.skipped and all("diversify" in why for why in result.skipped)
    assert len(result.examples) > 0


def test_nothing_close_to_a_held_out_text_is_kept():
    first = synthesize(DESCRIPTIONS, lm=scripted(), per_class=6, seed=2)
    held_out = [first.examples[0].inputs["text"]]
    again = synthesize(DESCRIPTIONS, lm=scripted(), per_class=6, seed=2, avoid=held_out)
    assert held_out[0] not in [e.inputs["text"] for e in again.examples]


def test_examples_save_and_load_as_jsonl_by_class(tmp_path):
    classes = Classes(descriptions=DESCRIPTIONS).add_examples("correct", ["Q: 2+2? A: 4."])
    classes.add_examples("incorrect", ["Q: 2+2? A: 3.", "Q: Capital of France? A: Rome."])
    loaded = Classes.load(classes.save_examples(tmp_path / "examples.jsonl"))
    assert loaded.examples == classes.examples


def test_a_descriptions_file_must_be_an_object_of_texts(tmp_path):
    path = tmp_path / "classes.json"
    path.write_text('["correct", "incorrect"]')
    with pytest.raises(pg.DataError, match="object of class descriptions"):
        Classes.load(path)


def test_one_class_is_not_a_classifier():
    with pytest.raises(pg.DataError, match="at least two classes"):
        synthesize({"only": "one"}, lm=scripted())


def test_a_class_with_nothing_usable_is_an_error_that_names_it():
    def respond(request):
        if prompts.read(request.messages[0].content).class_name == "incorrect":
            return "no"
        return scripted().respond(request)

    with pytest.raises(SynthesisError, match="no usable synthetic examples for incorrect"), pytest.warns(UserWarning):
        synthesize(DESCRIPTIONS, lm=pg.ScriptedLM(respond=respond), per_class=4)


def test_a_synthesized_repr_counts_its_examples_and_skipped_replies():
    from promptgraph import Example, Synthesized

    examples = tuple(Example({"text": "x" * 1000}, "a", id=str(i)) for i in range(500))
    synthesized = Synthesized(examples=examples, counts={"a": {"kept": 500}}, skipped=("bad reply",))
    assert repr(synthesized) == "Synthesized(examples=500, labels=['a'], skipped=1)"


def test_a_classes_repr_names_the_classes_and_counts_their_examples():
    from promptgraph import Classes

    classes = Classes(descriptions={"sincere": "s" * 1000, "insincere": "i" * 1000}, examples={"sincere": ["x"] * 30})
    assert repr(classes) == "Classes(names=['sincere', 'insincere'], examples=30)"


def test_every_synthesis_call_asks_for_the_effort_given():
    lm = scripted()
    synthesize(DESCRIPTIONS, lm=lm, per_class=4, effort="low")
    assert lm.requests and {request.effort for request in lm.requests} == {"low"}


def test_a_classes_repr_counts_the_class_names_past_the_first_five():
    classes = Classes({f"class{index}": "a kind of question" for index in range(30)})
    assert repr(classes) == "Classes(names=['class0', 'class1', 'class2', 'class3', 'class4', … 25 more], examples=0)"
