"""compile calls an optimizer's hooks: begin_step before the minibatch (its examples are the step's),
validated after every validation pass, a reused one included."""

import promptgraph as pg
from promptgraph.optimizers.base import Optimizer, StepResult, as_optimizer
from tests.search_world import FORMAT, RULE_A, train


class Hooked(Optimizer):
    """Trains on the examples it picks, and notes what compile shows it."""

    def __init__(self, texts=()):
        self.texts = list(texts)
        self.picked = []
        self.seen = []
        self.validations = []

    def begin_step(self, program, context):
        self.picked.append(list(context.trainset[context.iteration : context.iteration + 4]))
        return self.picked[-1]

    def step(self, program, *, traces, evaluation, context):
        self.seen.append([trace.example for trace in traces])
        if self.texts:
            program.nodes["classify"].system.update(self.texts.pop(0))
        return StepResult()

    def validated(self, iteration, program, evaluation):
        self.validations.append((iteration, program.values()["classify.system"], evaluation))


def test_the_examples_begin_step_returns_are_the_minibatch_the_step_sees():
    optimizer = Hooked()
    result = train(optimizer, iterations=2)
    assert optimizer.seen == optimizer.picked and len(optimizer.seen) == 2
    assert [[trace.example for trace in record.samples] for record in result.history[1:]] == optimizer.picked


def test_validated_is_called_once_per_iteration_with_its_evaluation():
    optimizer = Hooked(texts=[f"{RULE_A} {FORMAT}", f"{RULE_A} {FORMAT}"])  # the second step changes nothing
    result = train(optimizer, iterations=2)
    assert [iteration for iteration, _, _ in optimizer.validations] == [0, 1, 2]
    assert [evaluation for _, _, evaluation in optimizer.validations] == [record.val for record in result.history]
    assert result.history[2].validated_in == 1  # reused, and still told
    assert [system for _, system, _ in optimizer.validations] == [FORMAT, f"{RULE_A} {FORMAT}", f"{RULE_A} {FORMAT}"]


def test_an_optimizer_with_no_hooks_gets_compiles_own_sample():
    class Bare:
        def step(self, program, *, traces, evaluation, context):
            return StepResult()

    wrapped = as_optimizer(Bare())
    assert wrapped.begin_step(pg.Program.of(pg.Classify(("a", "b")), name="classify"), None) is None
    wrapped.validated(0, None, None)  # nothing to tell, and nothing fails
    assert len(train(Bare(), iterations=1).history[1].samples) == 20


def test_a_duck_typed_optimizer_gets_its_hooks_called():
    class Duck:
        def __init__(self):
            self.told = []

        def begin_step(self, program, context):
            return list(context.trainset[:3])

        def step(self, program, *, traces, evaluation, context):
            return StepResult()

        def validated(self, iteration, program, evaluation):
            self.told.append(iteration)

    duck = Duck()
    result = train(duck, iterations=1)
    assert duck.told == [0, 1] and len(result.history[1].samples) == 3


def test_a_step_that_trains_on_no_examples_records_no_training_score_and_still_runs():
    class Merging(Hooked):
        def begin_step(self, program, context):
            return []  # a merge: it reflects on nothing

    optimizer = Merging(texts=[f"{RULE_A} {FORMAT}"])
    result = train(optimizer, iterations=1)
    assert optimizer.seen == [[]]  # the optimizer's step ran, on no traces
    assert result.history[1].train is None  # not a training score of 0.000
    assert result.history[1].values["classify.system"] == f"{RULE_A} {FORMAT}"
