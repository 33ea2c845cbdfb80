import json

import pytest

import promptgraph as pg
from promptgraph import Classify, Example, KNNDemos, Program, ScriptedLM
from promptgraph.data import stratified_split
from promptgraph.optimizers.knn import demo_pool, describe
from promptgraph.parameter import Demo, Demos
from promptgraph.retrieval import Retriever
from tests.scenario import LABELS, questions

TOPICS = [
    Example({"text": "How do I bake sourdough bread?"}, "sincere", id="bread"),
    Example({"text": "Why are all bankers greedy thieves?"}, "insincere", id="bankers"),
    Example({"text": "How do I repot a cactus in winter?"}, "sincere", id="cactus"),
    Example({"text": "Why are all lawyers liars?"}, "insincere", id="lawyers"),
    Example({"text": "What soil does a cactus need?"}, "sincere", id="soil"),
]


def nearest_label(request):
    """A model that answers as the demo shown last (the nearest, with retrieval) was answered: a 1-NN."""
    demos = [message.content for message in request.messages[:-1] if message.role == "assistant"]
    return demos[-1] if demos else "Label: <label>sincere</label>"


def classifier(k=2):
    program = Program.of(Classify(LABELS, max_tokens=20), name="classify")
    module = program.nodes["classify"]
    module.demos.update(demo_pool(program, "classify", TOPICS))
    module.demos.retriever = Retriever(k=k)
    return program


def shown(program, text):
    request = program.nodes["classify"].render({"text": text})
    return [message.content.split("\n\n")[0] for message in request.messages[:-1] if message.role == "user"]


def test_each_input_is_shown_the_k_training_examples_nearest_it_the_nearest_last():
    assert shown(classifier(k=2), "My cactus needs new soil: how?") == [
        "How do I repot a cactus in winter?",
        "What soil does a cactus need?",
    ]


def test_a_pool_demo_answers_in_the_modules_own_format():
    pool = classifier().nodes["classify"].demos.pairs
    assert pool[1] == Demo({"text": "Why are all bankers greedy thieves?"}, "Label: <label>insincere</label>")


def test_an_input_is_never_shown_its_own_example():
    assert "Why are all lawyers liars?" not in shown(classifier(k=4), "Why are all lawyers liars?")


def test_fixed_demos_are_shown_to_every_input_as_before():
    demos = Demos([Demo({"text": "a"}, "x"), Demo({"text": "b"}, "y")])
    assert demos.shown({"text": "b"}, ["text"]) == demos.pairs


def test_retrieval_is_deterministic():
    assert shown(classifier(k=3), "Why are all cacti so spiky?") == shown(
        classifier(k=3), "Why are all cacti so spiky?"
    )


def compiled(trainset, valset=None, **settings):
    return pg.compile(
        Program.of(Classify(LABELS, max_tokens=20), name="classify"),
        trainset=trainset,
        valset=valset,
        lm=ScriptedLM(respond=nearest_label),
        optimizer=KNNDemos(**settings),
        iterations=3,
        samples_per_label=4,
        val_per_label=5,
        progress=False,
    )


def test_compile_with_knn_learns_from_neighbours_and_stops_once_the_pool_is_set():
    result = compiled(questions(40))
    assert result.history[0].val.accuracy == 0.5 and result.best.val.accuracy == 1.0
    assert len(result.history) == 2 and "pool is set" in result.stopped


def test_compile_runs_no_training_minibatch_for_knn_which_learns_from_none():
    result = compiled(questions(40))
    assert result.history[1].samples == () and result.history[1].train is None
    assert "forward" not in {account.tag for account in result.ledger.accounts()}  # only validation calls


def test_the_pool_holds_the_training_split_and_never_a_validation_example():
    examples = questions(40)
    _, valset = stratified_split(examples, 5, seed=0)  # the split compile makes: 5 per label
    pool = {demo.inputs["text"] for demo in compiled(examples).program.nodes["classify"].demos.pairs}
    assert len(pool) == 30 and not pool & {example.inputs["text"] for example in valset}


def test_a_separate_validation_set_never_reaches_the_pool():
    examples = questions(60)
    result = compiled(examples[:40], valset=examples[40:])
    pool = {demo.inputs["text"] for demo in result.program.nodes["classify"].demos.pairs}
    assert pool == {example.inputs["text"] for example in examples[:40]}


def test_two_runs_give_the_same_pool_in_the_trainsets_order():
    first, second = compiled(questions(40)), compiled(questions(40))
    assert first.program.demo_values() == second.program.demo_values()


def test_a_saved_program_retrieves_the_same_demos_after_loading_with_no_trainset(tmp_path):
    program = compiled(questions(40), k=3).program
    program.save(tmp_path / "program.json")
    loaded = pg.load(tmp_path / "program.json")
    assert loaded.nodes["classify"].demos.retriever == Retriever(k=3)
    for text in ("Why are all group7 people so bad?", "How do I bake bread number 99?"):
        assert shown(loaded, text) == shown(program, text)


def test_a_saved_retriever_that_cannot_be_right_is_refused_naming_node_and_field(tmp_path):
    path = compiled(questions(40)).program.save(tmp_path / "program.json")
    data = json.loads(path.read_text())
    data["nodes"][0]["demos"]["demos"]["retriever"]["k"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(pg.LoadError, match="node 'classify', demos 'demos' field 'retriever' k must be a whole number"):
        pg.load(path)


def test_a_module_that_does_not_read_the_program_inputs_takes_no_pool():
    program = Program(inputs=["text"])
    program.add("first", Classify(LABELS, max_tokens=20))
    program.add("second", Classify(LABELS, max_tokens=20), text="first.label")
    assert demo_pool(program, "second", questions(4)) is None and demo_pool(program, "first", questions(4)) is None


def test_a_pool_is_described_as_training_examples_of_which_each_input_sees_the_k_nearest():
    demos = classifier(k=2).nodes["classify"].demos

    assert describe(demos) == "a pool of 5 training examples, the 2 nearest shown to each input (bm25)"


def test_the_repr_names_k_even_at_its_default():
    assert repr(KNNDemos()) == "KNNDemos(k=4)"
