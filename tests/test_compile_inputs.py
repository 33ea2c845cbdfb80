"""compile refuses what cannot train before it sends anything: a budget that cannot pay for the first
validation, a program with nothing to train, a metric that cannot score a right answer, examples and
arguments of the wrong kind. Each refusal is one line naming the argument (and the example), and the
forward and optimizer models saw no request."""

import logging
import math

import pytest

import promptgraph as pg
from promptgraph.compile import NothingToTrain
from promptgraph.data import DataError
from promptgraph.errors import ArgumentError, PromptgraphError
from promptgraph.metrics import MetricError
from promptgraph.optimizers.base import StepResult
from tests.scenario import classifier, forward_lm, forward_reply, optimizer_lm, questions

VALIDATION_USD = 0.0025  # 12 replies of the classifier at max_tokens (400), and their prompts, at Haiku's price


def train(program=None, *, forward=None, strong=None, optimizer=None, trainset=None, **options):
    options = {"iterations": 1, "samples_per_label": 8, "val_per_label": 6, "progress": False} | options
    return pg.compile(
        program if program is not None else classifier(),
        trainset=trainset if trainset is not None else questions(60),
        lm=forward if forward is not None else forward_lm(),
        optimizer=optimizer or pg.TextualGradientDescent(lm=strong if strong is not None else optimizer_lm()),
        **options,
    )


def refused(error, match, program=None, **options):
    """The refusal, one line, raised before the forward or the optimizer model saw a request."""
    forward, strong = forward_lm(), optimizer_lm()
    with pytest.raises(error, match=match) as caught:
        train(program, forward=forward, strong=strong, **options)
    assert forward.requests == [] and strong.requests == []
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, PromptgraphError)
    return str(caught.value)


# -- finding 2: budget_usd ------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [0, 0.0, -1, math.nan, math.inf, "5", True])
def test_a_budget_usd_that_is_not_a_positive_number_is_refused_like_max_metric_calls(budget):
    refused(ValueError, r"budget_usd must be a number of dollars above 0", budget_usd=budget)


def test_a_budget_usd_the_first_validation_may_pass_is_said_in_one_warning_and_the_run_goes_on(caplog):
    with caplog.at_level(logging.WARNING, logger="promptgraph.compile"):
        result = train(budget_usd=0.001, iterations=0)
    assert len(result.history) == 1
    warned = [record.getMessage() for record in caplog.records if "iteration 0's validation" in record.getMessage()]
    assert len(warned) == 1 and "budget_usd=0.001 may not pay for iteration 0's validation (12 calls" in warned[0]
    assert f"up to ${VALIDATION_USD:.4f}" in warned[0]


def test_the_budget_the_warning_names_is_said_to_pay_and_is_not_warned_of(caplog):
    with caplog.at_level(logging.WARNING, logger="promptgraph.compile"):
        result = train(budget_usd=VALIDATION_USD, iterations=0)
    assert len(result.history) == 1
    assert not [record for record in caplog.records if "iteration 0's validation" in record.getMessage()]


def test_a_budget_usd_with_a_model_of_no_known_price_is_not_checked():
    forward = pg.ScriptedLM(respond=forward_reply, model="my-local-model")
    result = train(forward=forward, budget_usd=0.000001, iterations=0)
    assert len(result.history) == 1


# -- finding 3: nothing to train ---------------------------------------------------------------------------


def test_a_program_with_every_text_frozen_is_refused_when_the_optimizer_trains_texts():
    message = refused(NothingToTrain, r"nothing to train: TextualGradientDescent trains texts", classifier().freeze())
    assert "iterations=0" in message


def test_a_frozen_program_may_still_be_scored_with_no_iteration():
    result = train(classifier().freeze(), iterations=0)
    assert len(result.history) == 1


def test_a_demo_optimizer_is_refused_when_no_demos_are_trainable_though_texts_are():
    program = classifier()
    for _, demos in program.named_demos():
        demos.trainable = False
    refused(NothingToTrain, r"BootstrapDemos trains demos", program, optimizer=pg.BootstrapDemos())


def test_a_demo_optimizer_trains_a_program_whose_texts_are_frozen_but_demos_are_not():
    program = classifier()
    for _, parameter in program.named_parameters():
        parameter.trainable = False
    result = train(program, optimizer=pg.BootstrapDemos())
    assert len(result.history) == 2


def test_a_chain_is_refused_when_one_of_its_optimizers_has_nothing_to_train():
    program = classifier()
    for _, parameter in program.named_parameters():
        parameter.trainable = False
    chain = pg.Chain(pg.TextualGradientDescent(lm=optimizer_lm()), pg.BootstrapDemos())
    refused(NothingToTrain, r"TextualGradientDescent trains texts", program, optimizer=chain)


class OnlyStep:
    """An optimizer written before the contract: it says nothing of what it trains."""

    def step(self, program, *, traces, evaluation, context):
        return StepResult()


def test_an_optimizer_that_does_not_say_what_it_trains_is_refused_only_for_a_program_with_nothing_trainable():
    refused(NothingToTrain, r"OnlyStep trains demos or texts", classifier().freeze(), optimizer=OnlyStep())
    program = classifier()
    for _, parameter in program.named_parameters():
        parameter.trainable = False
    assert len(train(program, optimizer=OnlyStep()).history) == 2


# -- finding 6: the metric, tried on right answers before anything is paid ---------------------------------


def test_a_metric_that_raises_on_a_right_answer_is_refused_naming_it_and_the_example():
    def wants_a_prediction_record(example, prediction):
        return prediction.label == example.label

    message = refused(
        MetricError,
        r"the metric .*wants_a_prediction_record .* raised AttributeError",
        metric=wants_a_prediction_record,
    )
    assert "valset example 'q" in message and "the label text" in message


def test_a_metric_that_returns_none_is_refused():
    refused(MetricError, r"returned None on valset example .*: a metric returns a number", metric=lambda e, p: None)


def test_a_metric_outside_0_to_1_is_refused():
    refused(MetricError, r"returned 5.0 .*from 0 to 1", metric=lambda e, p: 5.0)


def test_a_dspy_metric_with_a_required_trace_argument_is_given_trace_none():
    seen = []

    def dspy_metric(gold, pred, trace):
        seen.append(trace)
        return float(gold.label == pred)

    result = train(metric=dspy_metric)
    assert result.history[0].val.score == 0.5 and set(seen) == {None}


def test_a_metric_is_tried_with_the_label_typed_as_the_programs_answer_is():
    program = pg.Program.of(pg.Generate("text -> count: int"), name="count")
    trainset = [pg.Example({"text": f"{n} apples"}, str(n % 3), id=f"c{n}") for n in range(30)]
    forward = pg.ScriptedLM(respond=lambda request: "no idea", model="claude-haiku-5-5")
    result = train(
        program,
        forward=forward,
        trainset=trainset,
        iterations=0,
        metric=lambda e, p: 1.0 - min(abs(p - int(e.label)), 1),
    )
    assert len(result.history) == 1  # tried with 0, 1, 2 as ints, not as text: accepted


def test_a_metric_scoring_even_right_answers_0_is_warned_of(caplog):
    with caplog.at_level(logging.WARNING, logger="promptgraph.metrics"):
        train(metric=lambda e, p: 0.0, iterations=0)
    assert any("scores 0 even the expected answers" in record.getMessage() for record in caplog.records)


# -- findings 7 and 12: examples and arguments given in Python --------------------------------------------


def with_one(example, at=3):
    trainset = questions(60)
    trainset[at] = example
    return trainset


def test_an_input_of_none_is_refused_naming_the_example():
    example = pg.Example({"text": None}, "sincere", id="n1")
    refused(DataError, r"trainset\[3\] \(id 'n1'\): input 'text' is None", trainset=with_one(example))


@pytest.mark.parametrize("text", ["", "   \n"])
def test_an_empty_input_is_refused(text):
    refused(
        DataError, r"trainset\[3\].*input 'text' is empty", trainset=with_one(pg.Example({"text": text}, "sincere"))
    )


def test_an_example_without_the_programs_input_is_refused():
    example = pg.Example({"question": "Why?"}, "sincere", id="x")
    refused(
        DataError, r"trainset\[3\] \(id 'x'\) has no input 'text'; its inputs are question", trainset=with_one(example)
    )


def test_repeated_ids_are_refused_with_both_positions():
    trainset = questions(60)
    trainset[7] = pg.Example({"text": "Why?"}, "sincere", id=trainset[2].id)
    refused(DataError, r"trainset\[7\] and trainset\[2\] have the same id 'q2'", trainset=trainset)


def test_a_valset_is_checked_too():
    valset = [pg.Example({"text": "Why?"}, "sincere", id="v"), pg.Example({"text": None}, "insincere", id="w")]
    refused(DataError, r"valset\[1\] \(id 'w'\): input 'text' is None", valset=valset)


def test_examples_without_ids_are_refused_with_a_run_dir(tmp_path):
    trainset = [pg.Example(example.inputs, example.label) for example in questions(60)]
    refused(DataError, r"trainset\[0\] has no id; with a run_dir", trainset=trainset, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_examples_without_ids_train_without_a_run_dir():
    trainset = [pg.Example(example.inputs, example.label) for example in questions(60)]
    assert len(train(trainset=trainset, iterations=0).history) == 1


@pytest.mark.parametrize("item", [{"text": "Why?", "label": "sincere"}, "Why?"], ids=["dict", "str"])
def test_a_trainset_of_dicts_or_strings_says_to_make_examples(item):
    refused(
        DataError, r"trainset\[0\] is a (dict|str), not a pg.Example: write pg.Example\(inputs=", trainset=[item] * 4
    )


def test_a_trainset_that_is_not_a_list_is_refused():
    refused(DataError, r"trainset must be a list of pg.Example, not a str", trainset="questions.csv")


def test_a_trainset_given_as_a_generator_is_read_once_and_trains():
    result = train(trainset=(example for example in questions(60)), iterations=0)
    assert result.history[0].val.count == 12


def test_int_labels_are_read_as_text_as_a_classifiers_labels_are():
    program = pg.Program.of(pg.Classify([0, 1], system="End with Label: <label>0</label>"), name="classify")
    trainset = [
        pg.Example(example.inputs, int(example.label == "insincere"), id=example.id) for example in questions(60)
    ]
    forward = pg.ScriptedLM(respond=lambda request: "Label: <label>0</label>", model="claude-haiku-5-5")
    result = train(program, forward=forward, trainset=trainset, iterations=0)
    assert result.history[0].val.score == 0.5  # the "0" answers are right for the examples labelled 0


def test_a_float_label_is_refused_saying_to_write_the_text_a_classifier_of_whole_numbers_knows():
    example = pg.Example({"text": "Why?"}, 1.0, id="f")
    refused(
        DataError,
        r"trainset\[3\] \(id 'f'\): label 1.0 is a float; labels are text: write label='1' \(a column of whole",
        trainset=with_one(example),
    )


def test_numpy_int_labels_as_pandas_reads_them_are_read_as_text():
    numpy = pytest.importorskip("numpy")  # installed with scikit-learn (the dev extra)
    program = pg.Program.of(pg.Classify(["0", "1"]), name="classify")
    trainset = [
        pg.Example(inputs=example.inputs, label=numpy.int64(index % 2), id=example.id)
        for index, example in enumerate(questions(40))
    ]
    forward = pg.ScriptedLM(respond=lambda request: "Label: <label>0</label>", model="claude-haiku-5-5")
    result = train(program, forward=forward, trainset=trainset, iterations=0)
    assert result.history[0].val.score == 0.5


def test_a_metric_that_returns_a_numpy_bool_is_taken_as_a_number():
    numpy = pytest.importorskip("numpy")
    result = train(metric=lambda example, prediction: numpy.bool_(prediction == example.label), iterations=0)
    assert len(result.history) == 1


def test_a_bare_module_is_trained_as_a_one_module_program():
    module = classifier().nodes["classify"]
    result = train(module, iterations=0)
    assert list(result.program.nodes) == ["main"]


def test_a_program_that_is_not_a_module_is_refused():
    refused(
        ArgumentError, r"program must be a pg.Program \(or a module, e.g. pg.Classify\(...\)\), not a str", "classify"
    )


def test_a_models_name_for_lm_says_which_object_to_pass():
    strong = optimizer_lm()
    with pytest.raises(ArgumentError, match=r"lm='claude-haiku-5-5' is a model's name: pass lm=pg.AnthropicLM\(model="):
        train(forward="claude-haiku-5-5", strong=strong)
    assert strong.requests == []


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"iterations": -1}, r"^iterations must be >= 0 \(0 only scores the program as given\), not -1$"),
        ({"samples_per_label": 0}, r"^samples_per_label must be >= 1, not 0$"),
    ],
)
def test_a_bad_count_is_named_on_its_own(options, match):
    refused(ValueError, match, **options)


def test_a_run_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "run").write_text("mine")
    refused(ArgumentError, r"run_dir .*run is a file, not a directory", run_dir=tmp_path / "run")
    assert (tmp_path / "run").read_text() == "mine"


# -- examples without ids (DSPy's have none) ------------------------------------------------------------


class SeesTheTrainset:
    """Records the ids of the trainset compile hands its optimizer."""

    def __init__(self):
        self.ids = []

    def step(self, program, *, traces, evaluation, context):
        self.ids = [example.id for example in context.trainset]
        return StepResult()


def test_examples_without_ids_are_named_by_their_place_so_optimizers_can_tell_them_apart():
    unnamed = [pg.Example(inputs=example.inputs, label=example.label) for example in questions(60)]
    seen = SeesTheTrainset()
    train(trainset=unnamed, optimizer=seen)
    assert len(set(seen.ids)) == len(seen.ids) > 1 and all(seen.ids)
    assert all(example_id.startswith("trainset[") for example_id in seen.ids)


def test_an_example_in_both_the_trainset_and_the_valset_is_refused_naming_both_places():
    trainset = questions(60)
    valset = [*questions(60)[40:], trainset[3]]
    message = refused(DataError, r"valset\[20\] has the id .* of trainset\[3\]", trainset=trainset[:40], valset=valset)
    assert "validated on what it trained on" in message
