"""What a checkpoint records of a run so a resume can tell it is the same run: data fingerprints, the
optimizer's kind, the program's graph."""

import promptgraph as pg
from promptgraph.run_identity import fingerprint, optimizer_kind, program_differences, refusal
from tests.search_world import classifier, optimizer_lm, questions


def test_the_data_fingerprint_is_the_same_for_the_same_examples():
    assert fingerprint(questions(20)) == fingerprint(questions(20))


def test_the_data_fingerprint_changes_with_a_label_under_the_same_id():
    examples = questions(20)
    changed = [*examples[:-1], pg.Example(inputs=examples[-1].inputs, label="sincere", id=examples[-1].id)]
    assert examples[-1].label == "insincere" and fingerprint(changed) != fingerprint(examples)


def test_the_data_fingerprint_changes_with_the_order():
    examples = questions(20)
    assert fingerprint(examples[::-1]) != fingerprint(examples)


def test_a_chains_kind_names_its_optimizers():
    chain = pg.Chain(pg.TextualGradientDescent(lm=optimizer_lm()), pg.BootstrapDemos())
    assert optimizer_kind(chain) == "Chain(TextualGradientDescent, BootstrapDemos)"


def test_an_optimizer_that_has_only_step_is_its_own_kind():
    class OnlyStep:
        def step(self, program, *, traces, evaluation, context): ...

    assert optimizer_kind(pg.optimizers.base.as_optimizer(OnlyStep())) == "OnlyStep"


def test_other_texts_are_not_another_program():
    other = classifier("another system prompt")
    assert program_differences(classifier().to_dict(), other.to_dict()) == []


def test_a_nested_programs_nodes_are_compared_by_their_path():
    def nested(labels):
        inner = pg.Program.of(pg.Classify(labels), name="classify")
        return pg.Program(inputs=("text",)).add("stage", inner)

    found = program_differences(nested(["a", "b"]).to_dict(), nested(["a", "c"]).to_dict())
    assert "node 'stage.classify' labels a, b in the checkpoint, a, c now" in found


def test_the_same_run_is_no_refusal():
    identity = {"seed": 0, "trainset_content": "x", "valset_content": "y", "optimizer": "TextualGradientDescent"}
    program = classifier().to_dict()
    assert refusal("runs/a", identity, identity, program, program) is None


def test_other_call_settings_are_not_another_program():
    other = classifier()
    other.nodes["classify"].max_tokens = 50
    other.nodes["classify"].temperature = 0.7
    assert program_differences(classifier().to_dict(), other.to_dict()) == []
