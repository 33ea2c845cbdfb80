import io

import promptgraph as pg
from promptgraph import ScriptedLM, TextualGradientDescent
from promptgraph.progress import ProgressPrinter, duration
from tests.scenario import (
    classifier,
    forward_lm,
    forward_reply,
    optimizer_lm,
    questions,
    undoing_run,
)


class Clock:
    """A clock that moves 10 seconds every time it is read."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 10
        return self.now


def printer(iterations=2):
    return ProgressPrinter(iterations=iterations, stream=io.StringIO(), clock=Clock())


def train(progress, *, optimizer=None, forward=None, examples=None, **options):
    options = {"iterations": 2, "samples_per_label": 8, "val_per_label": 6, "progress": False} | options
    strong = optimizer or optimizer_lm()
    return pg.compile(
        classifier(),
        trainset=examples or questions(60),
        lm=forward or forward_lm(),
        optimizer=TextualGradientDescent(lm=progress.watch(strong)),
        on_iteration=progress,
        **options,
    )


def lines(progress):
    return progress.stream.getvalue().splitlines()


def test_a_line_per_finished_iteration_gives_the_score_its_change_the_best_and_the_time():
    progress = printer()
    train(progress)
    finished = [line for line in lines(progress) if ": validation" in line]
    assert finished[0].startswith("iteration 0/2: validation 0.500 (the program as given)")
    assert finished[1].startswith("iteration 1/2: validation 1.000 (+0.500), best 1.000 (iteration 1)")
    assert finished[2].startswith("iteration 2/2: validation 1.000 (+0.000)")
    assert all(line.endswith("s elapsed") for line in finished)


def test_the_cost_so_far_is_in_dollars_when_priced_and_unknown_when_not():
    priced = printer()
    train(priced)  # the scripted models are named as Claude models, which have a list price
    assert "$0.0" in lines(priced)[0] and "so far" in lines(priced)[0]
    unpriced = printer()
    train(
        unpriced,
        forward=ScriptedLM(respond=forward_reply, model="my-local-model"),
    )
    assert "cost unknown" in lines(unpriced)[0]


def test_the_optimizer_model_is_announced_once_per_kind_of_work_and_iteration():
    progress = printer(iterations=1)
    train(progress, iterations=1)
    announced = [line for line in lines(progress) if "optimizer model" in line]
    assert announced == [
        "iteration 1/1: the optimizer model (claude-opus-5-5) is writing critiques",
        "iteration 1/1: the optimizer model (claude-opus-5-5) is rewriting the texts",
    ]
    assert lines(progress).index(announced[0]) == 1  # after iteration 0's line, before iteration 1's


def test_an_undone_iteration_says_which_iteration_training_goes_on_from():
    progress = printer()
    undoing_run(iterations=2, on_iteration=progress)
    last = lines(progress)[-1]
    assert "undone: training goes on from iteration 1, best" in last
    assert last.startswith("iteration 2/2: validation")


def test_a_starting_run_says_it_is_validating_before_the_first_pass_ends():
    progress = printer(iterations=5)
    progress.starting()
    assert lines(progress) == ["iteration 0/5: validating the program as given"]


def test_resuming_says_at_which_iteration_of_how_many():
    progress = printer(iterations=5)
    progress.resuming(3)
    assert lines(progress) == ["resuming at iteration 3 of 5"]


def test_a_run_without_a_set_number_of_iterations_counts_without_a_total():
    progress = printer(iterations=None)
    progress.resuming(3)
    assert lines(progress) == ["resuming at iteration 3"]
    assert progress.label(4) == "iteration 4"


def test_durations_read_as_seconds_minutes_or_hours():
    assert [duration(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]


def compile_once(*, progress: bool) -> None:
    pg.compile(
        classifier(),
        trainset=questions(60),
        lm=forward_lm(),
        optimizer=TextualGradientDescent(lm=optimizer_lm()),
        iterations=1,
        samples_per_label=8,
        val_per_label=6,
        progress=progress,
    )


def test_the_progress_bars_name_the_iteration_they_belong_to(capsys):
    compile_once(progress=True)
    bars = capsys.readouterr().err
    assert "iteration 0/1 validate" in bars
    assert "iteration 1/1 forward" in bars and "iteration 1/1 validate" in bars


def test_compile_prints_nothing_unless_given_a_printer(capsys):
    compile_once(progress=False)
    assert capsys.readouterr() == ("", "")


def test_the_printer_has_a_short_repr():
    assert repr(ProgressPrinter(iterations=3)) == "ProgressPrinter(iterations=3)"
