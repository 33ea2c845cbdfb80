"""`promptgraph compile` and `evaluate`: training a program and scoring it on the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from promptgraph import checkpoint
from promptgraph.baseline import Baseline
from promptgraph.budget import (
    METRIC_CALL_LEVELS,
    IterationPlan,
    first_iteration_bound,
    iterations_at_most,
    metric_calls,
    unaffordable,
    usd_may_not_pay,
)
from promptgraph.cli.arguments import (
    UsageError,
    call_budget,
    non_negative_int,
    output_directory,
    positive_int,
    positive_number,
    same_file,
)
from promptgraph.cli.backend import (
    Backend,
    add_backend_options,
    batching,
    cache_directory,
    choose,
    open_backend,
    refuse_local_batches,
)
from promptgraph.cli.baseline import add_baseline_option, compile_baseline, evaluate_baseline, record_baseline
from promptgraph.cli.failures import Failures, add_failure_option
from promptgraph.cli.options import (
    add_data_options,
    add_trust_option,
    effort_of,
    load_program,
    names_code,
    parse_labels,
    read_examples,
    require_inputs,
    with_model_settings,
)
from promptgraph.cli.synthesize import SYNTHETIC_FILE, add_synthesis_options, load_classes, synthetic_trainset
from promptgraph.compile import DEFAULT_ITERATIONS, CompileResult, ResumeMismatch, compile
from promptgraph.data import DataError, Example, labels_of, require_labels, stratified_split
from promptgraph.estimate import estimate_compile, estimate_table
from promptgraph.executors import executor_for
from promptgraph.lm import LM, BatchedLM, Ledger
from promptgraph.lm.ledger import cost_known
from promptgraph.lockfile import Lock, LockHeld
from promptgraph.metrics import Evaluation, evaluate
from promptgraph.modules import Classify
from promptgraph.modules.classify import CLASSIFY_MAX_TOKENS
from promptgraph.optimizers import (
    OPRO,
    BeamSearch,
    BootstrapDemos,
    Chain,
    Gate,
    KNNDemos,
    Optimizer,
    ParetoSearch,
    ProposeInstructions,
    TextualGradientDescent,
)
from promptgraph.optimizers.search import modules_in
from promptgraph.program import Program
from promptgraph.progress import ProgressPrinter
from promptgraph.report import ReportWriter, RunSetup


def add_commands(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "compile",
        help="train a classifier's prompts on a labelled CSV/JSONL",
        description="Train a program's prompts on labelled examples: the forward model runs the program, the "
        "optimizer model critiques its mistakes and rewrites its texts, and the best program on a held-out "
        "validation set is saved with a report. Each finished iteration prints a line as it ends.",
        epilog="""examples:
  promptgraph compile data.csv --labels 0=sincere,1=insincere --iterations 3 --out runs/first
  promptgraph compile data.csv --labels 0=sincere,1=insincere --dry-run     # the cost, spending nothing
  promptgraph compile --resume runs/first                                    # carry on after an interruption
  promptgraph compile answers.csv --program examples/grader.py:build \\
      --inputs question,reference_answer,student_answer --labels correct,wrong --out runs/grader""",
    )
    train.add_argument("data", nargs="?", help="labelled examples, .csv or .jsonl (or use --classes)")
    train.add_argument(
        "--classes",
        help="no data yet: describe the classes (.json {name: description}, or .jsonl with examples) and "
        "compile on a trainset the optimizer model writes; real --examples are split into training and a held-out test",
    )
    train.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="carry on an interrupted run from its last finished iteration, with the settings it was started with",
    )
    train.add_argument(
        "--budget-usd",
        type=positive_number,
        help="stop before an iteration that would take the spend past this (default: no budget)",
    )
    train.add_argument(
        "--max-metric-calls",
        type=call_budget,
        metavar="N|light|medium|heavy",
        help="stop before an iteration that could take the forward calls (cache hits included) past N; light, "
        "medium and heavy are 8, 20 and 50 validation passes. Without --iterations the run goes on until it is spent "
        "(default: no cap)",
    )
    train.add_argument(  # DSPy users type `auto="light"`: the same three levels, by the name they know
        "--auto",
        dest="max_metric_calls",
        choices=METRIC_CALL_LEVELS,
        help="DSPy's spelling of --max-metric-calls light|medium|heavy",
    )
    add_failure_option(train, stops="stop training")
    train.add_argument("--valset", help="a separate labelled file to validate on (default: held out of DATA)")
    train.add_argument(
        "--program",
        help="the program to train: a saved .json, or file.py:function returning a Program "
        "(default: a new one-module classifier of --text-column)",
    )
    add_trust_option(train)
    train.add_argument(
        "--system",
        default=None,
        help="the starting system prompt (default: one that names the task; the labels and the answer format "
        "are stated in every message, whatever the prompts say)",
    )
    train.add_argument("--prefix", default="", help="the starting text before each input (default empty)")
    train.add_argument("--suffix", default="", help="the starting text after each input (default empty)")
    train.add_argument(
        "--iterations",
        type=non_negative_int,
        help=f"training iterations (default {DEFAULT_ITERATIONS}; with --max-metric-calls, as many as it allows)",
    )
    train.add_argument(
        "--samples-per-label", type=positive_int, default=100, help="training examples sampled per label and iteration"
    )
    train.add_argument(
        "--val-per-label", type=positive_int, default=50, help="examples per label held out for validation"
    )
    train.add_argument("--seed", type=int, default=0, help="seeds the samples and the split: same seed, same run")
    train.add_argument(
        "--dry-run", action="store_true", help="print the calls, tokens and USD the run would take, and stop"
    )
    train.add_argument(
        "--optimizer",
        choices=tuple(OPTIMIZERS),
        help="; ".join(f"{name}: {description}" for name, (description, _) in OPTIMIZERS.items())
        + " (default: knn on the local backend, tgd otherwise)",
    )
    train.add_argument(
        "--gate", action="store_true", help="tgd: keep a rewrite only if it does not lose on held-out training examples"
    )
    train.add_argument("--edits", action="store_true", help="tgd and beam: targeted edits instead of full rewrites")
    train.add_argument(
        "--max-tokens",
        type=positive_int,
        default=CLASSIFY_MAX_TOKENS,
        help=f"reply length limit of a new classifier (default {CLASSIFY_MAX_TOKENS}, as pg.Classify's; on the local "
        "backend the label grammar ends the reply long before it)",
    )
    train.add_argument(
        "--out",
        type=output_directory,
        default="runs/latest",
        help="where program.json and report/ go (default runs/latest); one that holds a run is refused, "
        "saying how to resume it, unless --force, and so is one that holds a file the run would write over",
    )
    train.add_argument(
        "--force", action="store_true", help="start a new run in an --out that holds one (or its files), replacing it"
    )
    add_data_options(train, labelled=True)
    add_synthesis_options(train)
    add_backend_options(train, optimizer=True)
    train.set_defaults(run=run_compile)

    check = commands.add_parser(
        "evaluate",
        help="score a saved program on labelled data",
        description="Run a saved program on labelled examples and print its metrics, confusion matrix and cost.",
        epilog="""example:
  promptgraph evaluate runs/first/program.json test.csv --labels 0=sincere,1=insincere""",
    )
    check.add_argument("program", help="a saved program (.json), or file.py:function")
    check.add_argument("data", help="labelled examples, .csv or .jsonl")
    add_trust_option(check)
    add_failure_option(check, stops="exit 1")
    add_baseline_option(check)
    add_data_options(check, labelled=True)
    add_backend_options(check, optimizer=False)
    check.set_defaults(run=run_evaluate)


def run_compile(arguments: argparse.Namespace) -> int:
    if arguments.resume:
        arguments = resumed_arguments(arguments)
    trainset, valset, given = checked_input(arguments)
    if arguments.resume:
        _refuse_a_spent_budget(arguments, trainset, valset)
    _warn_of_the_small_local_model(arguments)
    baseline = _baseline_before_the_run(arguments, trainset, valset, given)
    if arguments.dry_run:
        return run_dry(arguments, trainset, valset)
    budgets = arguments.max_metric_calls is not None or arguments.budget_usd is not None
    if budgets and not arguments.resume and not arguments.classes:
        _refuse_an_unaffordable_budget(arguments, _planned(arguments, trainset, valset, choose(arguments, say=False)))
    out = Path(arguments.out)
    with _run_directory(out):
        if arguments.resume:  # a run with nothing to resume is refused before the probe is sent (once it is not in use)
            _say_if_finished(arguments, checkpoint.read(out))
        elif not arguments.force:
            _refuse_replacing(arguments, out)
        return _compile_into(arguments, out, trainset, valset, given, baseline)


def _baseline_before_the_run(
    arguments: argparse.Namespace, trainset: list[Example], valset: list[Example] | None, given: Program | None
) -> tuple[Baseline, list[str]] | None:
    """The baseline, fitted before any call (it needs none): if it cannot be, the warning comes first.
    None with --classes, whose trainset is written during the run: it is fitted after it."""
    if arguments.classes:
        return None
    return compile_baseline(arguments, given or build_program(arguments, trainset), trainset, valset)


def _refuse_a_spent_budget(
    arguments: argparse.Namespace, trainset: list[Example], valset: list[Example] | None
) -> None:
    """A resume whose --max-metric-calls leaves no room for one more iteration could train nothing: say so
    before any call, with the budget that would."""
    out = Path(arguments.resume)
    if arguments.max_metric_calls is None or not (out / checkpoint.FILE).exists():
        return
    spent = _spent(checkpoint.read(out))
    if spent is None:
        return
    plan = _planned(arguments, trainset, valset, choose(arguments, say=False))
    per_example = modules_in(plan.program)
    budget = metric_calls(arguments.max_metric_calls, validation_pass=plan.valset_size * per_example)
    bound = first_iteration_bound(plan, per_example)
    if budget < spent + bound:
        raise UsageError(
            f"--max-metric-calls {arguments.max_metric_calls} ({budget} calls): the run has already sent {spent} "
            f"forward calls and an iteration can take up to {bound} more; give at least {spent + bound} to train it further"
        )


def _spent(saved: checkpoint.Checkpoint) -> int | None:
    """The forward calls a checkpointed run has sent (None: a run saved before they were counted)."""
    return saved.history[-1].get("rollouts") if saved.history else None


def _say_if_finished(arguments: argparse.Namespace, saved: checkpoint.Checkpoint) -> None:
    """A resumed run with no iteration left ends at once, as before; one line says how to train it further."""
    last, planned = saved.iteration, iterations_of(arguments)
    if planned is not None and last >= planned:
        print(
            f"promptgraph: {arguments.out} holds a finished run ({last} of {planned} iterations): nothing to "
            f"resume; to train it further, resume with --iterations {last + 1} or more",
            file=sys.stderr,
        )


def _refuse_replacing(arguments: argparse.Namespace, out: Path) -> None:
    """A new run in a directory that holds one would write over it: say how to resume it, or to --force."""
    if not (out / checkpoint.FILE).exists():
        _refuse_writing_over(out)
        return
    try:
        saved = checkpoint.read(out)
        done, stopped = saved.iteration, (saved.history[-1].get("stopped") if saved.history else None)
        settings = json.loads((out / COMMAND_FILE).read_text(encoding="utf-8"))
        planned = iterations_of(argparse.Namespace(**{"iterations": None, "max_metric_calls": None} | settings))
    except (ValueError, OSError, TypeError):  # damaged: still a run of someone's, not to be replaced silently
        raise UsageError(f"--out {out} holds a run; pass --force to replace it, or choose another --out") from None
    if stopped:  # the optimizer had nothing left to try: resuming would stop again at once
        raise UsageError(
            f"--out {out} holds a finished run (its optimizer stopped after iteration {done}: {stopped}); "
            "pass --force to replace it, or choose another --out"
        )
    if planned is not None and done >= planned:
        raise UsageError(
            f"--out {out} holds a finished run ({done} of {planned} iterations); pass --force to replace it, choose "
            f"another --out, or train it further with --resume {out} --iterations {done + 1}"
        )
    of = f" of {planned}" if planned is not None else ""
    raise UsageError(
        f"--out {out} holds a run stopped after iteration {done}{of}; carry on with --resume {out}, "
        "pass --force to start again, or choose another --out"
    )


def _refuse_writing_over(out: Path) -> None:
    """Results a run writes, held by no run to resume (saved from Python, as the README tour does): whoever saved
    them is asked before they are replaced. What a run killed before its first checkpoint leaves (its settings,
    journal and batch ids) is not refused: the interrupt says to run the same command again, and the batch ids are
    what that run polls again rather than pay twice."""
    writes = ("program.json", "report/index.html", SYNTHETIC_FILE)
    held = next((name for name in writes if (out / name).exists()), None)
    if held is not None:
        raise UsageError(
            f"--out {out} holds {held}, which a new run would write over; pass --force to replace it, "
            "or choose another --out"
        )


@contextlib.contextmanager
def _run_directory(out: Path) -> Iterator[None]:
    """The run directory, locked: one compile at a time writes it, a resumed one too.

    A run that fails before it wrote anything (the pre-flight probe found no key, say)
    takes away the folders it made, so a refused run leaves nothing behind.
    """
    made = [folder for folder in (out, *out.parents) if not folder.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = Lock.acquire(out / "run.lock", what=f"the run directory {out}")
    except LockHeld as error:
        raise ValueError(str(error)) from None
    except OSError as error:
        raise ValueError(f"--out {out} cannot be used as a run directory: {error.strerror}") from None
    try:
        with lock:
            yield
    except BaseException:
        for folder in made:  # innermost first; a folder that holds anything stays
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _compile_into(
    arguments: argparse.Namespace,
    out: Path,
    trainset: list[Example],
    valset: list[Example] | None,
    given: Program | None,
    baseline: tuple[Baseline, list[str]] | None,
) -> int:
    ledger = Ledger()
    real_test: list[Example] = []
    progress = ProgressPrinter(iterations=iterations_of(arguments))
    with open_backend(arguments) as backend:
        command_before = None
        if arguments.resume:  # how far the run goes (a new budget) holds for the next resume too
            command_before = remember_extent(arguments, out)
        else:  # once the backend has answered its pre-flight probe
            remember_arguments(arguments, out)
        if arguments.classes:
            trainset, real_test = synthetic_trainset(arguments, backend, out, ledger)
        program = given or build_program(arguments, trainset)
        # With --batch every call waits for a batch, the optimizer's too: half price for all of it.
        batch = batching(arguments, state=out / "batches.json")
        strong = progress.watch(BatchedLM(backend.optimizer, batch) if batch else backend.optimizer)
        if arguments.resume:
            _say_where_it_resumes(arguments, out, progress)
        else:
            progress.starting()
        optimizer = choose_optimizer(arguments, backend.name, strong)
        title = f"promptgraph compile {arguments.data or arguments.classes}"
        report = ReportWriter(out / "report", title=title, setup=run_setup(arguments, backend, optimizer))
        result = _compile_or_put_back(
            out / COMMAND_FILE,
            command_before,
            program,
            trainset=trainset,
            valset=valset,
            lm=backend.forward,
            optimizer=optimizer,
            iterations=iterations_of(arguments),
            samples_per_label=arguments.samples_per_label,
            val_per_label=arguments.val_per_label,
            seed=arguments.seed,
            ledger=ledger,
            on_iteration=[report, progress],  # compile asks the writer before paying, and tells it of --force
            run_dir=out,
            resume=bool(arguments.resume),
            # A run in --out was refused unless --force asked to replace it; --resume carries on from it.
            overwrite=bool(arguments.force) and not arguments.resume,
            budget_usd=arguments.budget_usd,
            max_metric_calls=arguments.max_metric_calls,
            max_failure_rate=arguments.max_failure_rate,
            batch=batch or False,
        )
        if real_test:  # the numbers that matter: synthetic validation can flatter the program
            traces = result.program.run(real_test, lm=backend.forward, ledger=ledger, tag="evaluate", progress=False)
            real = evaluate(traces, labels=result.program.labels)
            result.program.meta["real_test"] = real.to_dict()
    # --classes: fitted now, on the trainset the run wrote
    fitted, fitted_on = baseline or compile_baseline(arguments, result.program, trainset, valset)
    record_baseline(arguments, result.program, fitted, fitted_on)  # in the program it saves
    report(result.history, ledger, result.program)  # the report again, with the baseline beside the program
    saved = result.program.save(out / "program.json")
    print(compile_summary(result, saved, out / "report" / "index.html"))
    print(fitted.line(result.best.val, where="validation "))
    print(finished_line(result, progress.elapsed()))
    if arguments.classes:
        print(
            f"\naccuracy on the synthetic validation set: {result.best.val.accuracy:.3f} ({result.best.val.count} examples)"
        )
        if real_test:
            print(f"accuracy on real held-out examples:      {real.accuracy:.3f} ({real.count} examples)")
        else:
            print("no real example held out (a class needs two to hold one out): give more with --examples")
    if result.stopped:
        print(f"stopped early: {result.stopped}")
    return 0


def _compile_or_put_back(command: Path, before: str | None, *args, **options) -> CompileResult:
    """compile; a resume it refuses as another run's (nothing sent) leaves the run's command file as it was."""
    try:
        return compile(*args, **options)
    except ResumeMismatch:
        if before is not None:
            command.write_text(before, encoding="utf-8")
        raise


def _say_where_it_resumes(arguments: argparse.Namespace, out: Path, progress: ProgressPrinter) -> None:
    last, planned = checkpoint.read(out).iteration, iterations_of(arguments)
    if planned is None or last < planned:  # a finished run was said to be so already
        progress.resuming(last + 1)


def checked_input(arguments: argparse.Namespace) -> tuple[list[Example], list[Example] | None, Program | None]:
    """(trainset, valset or None, the --program given or None), once every option and row is known to be usable.

    Everything a run would refuse later is refused here, before `remember_arguments`
    writes the run directory: a refused run leaves nothing behind and has paid for nothing.
    """
    if not arguments.resume and not arguments.data and not arguments.classes:
        raise UsageError("compile needs a labelled data file, or --classes to write one (or --resume RUN_DIR)")
    if arguments.classes and arguments.data:
        raise UsageError("give either a data file or --classes, not both")
    if arguments.classes and arguments.dry_run:
        raise UsageError("--dry-run needs the data: write it first with `promptgraph synthesize`, then compile that")
    if arguments.data and arguments.valset and same_file(arguments.data, arguments.valset):
        raise UsageError(
            f"--valset {arguments.valset} is the data file itself; validate on other examples, or leave it out"
        )
    cache_directory(arguments)  # refuses a cache directory that is a file, before the run directory is made
    program = build_program(arguments, []) if arguments.program else None  # its modules check --thinking
    budget = arguments.thinking
    if program is None and isinstance(budget, int) and budget >= arguments.max_tokens:
        raise UsageError(
            f"--thinking {budget} needs --max-tokens above it (it is {arguments.max_tokens}): "
            "thinking tokens count against max_tokens"
        )
    if program is not None:
        require_inputs(arguments, program.inputs)
    classifier = program is None or bool(program.labels)
    if arguments.classes:
        load_classes(arguments)  # the class descriptions are read now, not after the run directory is made
        return [], None, program
    trainset = read_examples(arguments, arguments.data, labelled=True)
    valset = read_examples(arguments, arguments.valset, labelled=True) if arguments.valset else None
    require_labels(
        trainset, valset or (), classifier=classifier, source=arguments.data, expected=parse_labels(arguments.labels)[0]
    )
    if program is not None:
        require_known_labels(program, trainset, arguments.data, labels_option=arguments.labels)
        require_known_labels(program, valset or [], arguments.valset, labels_option=arguments.labels)
    held_out = (
        valset
        if valset is not None
        else stratified_split(trainset, arguments.val_per_label, seed=arguments.seed, stratify=classifier)[1]
    )
    if not held_out:
        raise DataError(f"{arguments.data}: nothing can be held out for validation; give a --valset")
    return trainset, valset, program


def require_known_labels(
    program: Program, examples: list[Example], path: str, *, labels_option: str | None = None
) -> None:
    """A classifier can only be scored on labels it can answer; any other would silently count as wrong.

    When a --labels mapping named them, the mapping is at fault, not the file: the error says so."""
    unknown = [label for label in labels_of(examples) if program.labels and label not in program.labels]
    if not unknown:
        return
    names, knows = ", ".join(map(repr, unknown)), f"(it knows {', '.join(program.labels)})"
    mapping = parse_labels(labels_option)[1]
    if mapping is not None and set(unknown) <= set(mapping.values()):
        raise DataError(
            f"--labels {labels_option} maps the values of {path} to labels the program's classifier does not know: "
            f"{names} {knows}; map them to its labels"
        )
    raise DataError(
        f"{path} has labels the program's classifier does not know: {names} {knows}; map them with --labels"
    )


COMMAND_FILE = "command.json"
# models_named: how a model was chosen; log_level: how this command talks, not a setting of the run;
# options_given: what this command line said (cli/arguments.py), so a resume can tell a typed default from none.
NOT_REMEMBERED = ("run", "resume", "command", "force", "models_named", "dry_run", "log_level", "options_given")
# What a resume may change: where and how the calls go, how patient the run is, what it may import.
RESUME_OVERRIDES = (
    "lm",
    "base_url",
    "model",
    "optimizer_model",
    "max_concurrency",
    "max_consecutive_failures",
    "max_failure_rate",
    "no_cache",
    "budget_usd",
    "max_metric_calls",
    "trust_code",
    "iterations",  # a finished run trains further when resumed with more
)


def iterations_of(arguments: argparse.Namespace) -> int | None:
    """--iterations, or by default 5; with --max-metric-calls and no --iterations, None: until it is spent."""
    if arguments.iterations is not None:
        return arguments.iterations
    return None if arguments.max_metric_calls is not None else DEFAULT_ITERATIONS


def remember_arguments(arguments: argparse.Namespace, out: Path) -> None:
    """The run's settings, so `--resume` can start the same run again (with the same response cache)."""
    out.mkdir(parents=True, exist_ok=True)
    arguments.cache_dir = str(cache_directory(arguments))  # where this run's answers are, whatever the environment
    settings = {key: value for key, value in vars(arguments).items() if key not in NOT_REMEMBERED}
    (out / COMMAND_FILE).write_text(json.dumps(settings, indent=1), encoding="utf-8")


# What a resume changes for every later resume: how far the run goes. Where and how its calls go (a proxy's
# --base-url, --no-cache) is for that resume alone.
EXTENT = ("iterations", "max_metric_calls", "budget_usd")


def remember_extent(arguments: argparse.Namespace, out: Path) -> str:
    """Write this resume's extent into the run's command file; the text it replaced, to put back on a refusal."""
    path = out / COMMAND_FILE
    before = path.read_text(encoding="utf-8")
    settings = json.loads(before)
    settings.update({key: getattr(arguments, key) for key in EXTENT})
    path.write_text(json.dumps(settings, indent=1), encoding="utf-8")
    return before


def resumed_arguments(arguments: argparse.Namespace) -> argparse.Namespace:
    """The settings the run was started with; the backend may be named again (e.g. a new --base-url)."""
    path = Path(arguments.resume) / COMMAND_FILE
    if not path.exists():
        raise ValueError(
            f"{arguments.resume} holds no {COMMAND_FILE}: it is not a run directory of `promptgraph compile`"
        )
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not valid JSON ({error}); it cannot be resumed: start a new run") from None
    if not isinstance(settings, dict):
        raise UsageError(f"{path} is not the settings of a run; it cannot be resumed: start a new run")
    _require_trust_to_resume(arguments, settings, path)
    _refuse_changed_settings(arguments, settings)
    for key in RESUME_OVERRIDES:
        if key in arguments.options_given:  # typed out, even at its default value: this resume's word
            settings[key] = getattr(arguments, key)
    if not settings.get("no_cache"):
        settings["cache_dir"] = resumed_cache_dir(arguments, settings.get("cache_dir"))
    # Settings added to promptgraph since the run started take this command's values.
    merged = {**vars(arguments), **settings}
    now = {"resume": arguments.resume, "out": arguments.resume, "run": arguments.run, "dry_run": arguments.dry_run}
    return argparse.Namespace(**{**merged, **now})


def _refuse_changed_settings(arguments: argparse.Namespace, settings: dict) -> None:
    """A resume carries on the run as it was started: an option it cannot change is refused, not ignored."""
    fixed = set(settings) - set(RESUME_OVERRIDES) - {"out", "cache_dir", *NOT_REMEMBERED}
    changed = [  # given on the command line, even at its default value, and not what the run was started with
        f"{_option(key, value)} (started {'without it' if settings[key] is None else f'with {settings[key]}'})"
        for key, value in vars(arguments).items()
        if key in fixed and key in arguments.options_given and value != settings[key]
    ]
    if changed:
        raise UsageError(
            f"--resume carries on {arguments.resume} as it was started, so it cannot change {', '.join(changed)}: "
            "drop them, or start a new run with another --out"
        )


def _option(key: str, value: object) -> str:
    if key == "data":
        return str(value)
    return f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}")


def _require_trust_to_resume(arguments: argparse.Namespace, settings: dict, path: Path) -> None:
    """Code named by a run's command.json runs only if this command says --trust-code: the file may not be yours."""
    program = settings.get("program")
    runs_code = isinstance(program, str) and names_code(program)
    if (runs_code or settings.get("trust_code")) and not arguments.trust_code:
        raise UsageError(
            f"{path} names code to run ({program}); nothing was imported: if you trust it, resume with --trust-code"
        )
    settings["trust_code"] = bool(arguments.trust_code)  # this command's word, never the file's


def resumed_cache_dir(arguments: argparse.Namespace, recorded: str | None) -> str | None:
    """The response cache the run was started with: a resume that pays again for its answers must be asked for.

    An explicit --cache-dir wins; a different $PROMPTGRAPH_CACHE_DIR (or home) does not. Either way one line names both.
    """
    if recorded is None:  # a run from before the cache directory was recorded
        return arguments.cache_dir
    here = cache_directory(arguments)
    if here == Path(recorded):
        return recorded
    if arguments.cache_dir:
        print(
            f"promptgraph: warning: {arguments.resume} was run with the response cache in {recorded}; "
            f"using {here} as --cache-dir asks, so the answers cached in {recorded} are not reused",
            file=sys.stderr,
        )
        return str(here)
    print(
        f"promptgraph: warning: {arguments.resume} was run with the response cache in {recorded}, not {here} "
        f"(from $PROMPTGRAPH_CACHE_DIR or home); using {recorded} (pass --cache-dir {here} to use that one)",
        file=sys.stderr,
    )
    return recorded


def build_program(arguments: argparse.Namespace, trainset: list[Example]) -> Program:
    """The --program given, or a new one-module classifier of the data's labels."""
    if arguments.program:
        return with_model_settings(load_program(arguments.program, trust_code=arguments.trust_code), arguments)
    labels = parse_labels(arguments.labels)[0] or labels_of(trainset)
    classify = Classify(
        labels,
        system=arguments.system,
        prefix=arguments.prefix,
        suffix=arguments.suffix,
        max_tokens=arguments.max_tokens,
    )
    return with_model_settings(Program.of(classify, name="classify"), arguments)


# What each --optimizer builds, from the strong model and the command's arguments.
OPTIMIZERS: dict[str, tuple[str, Callable[[LM | None, argparse.Namespace], Optimizer]]] = {
    "tgd": (
        "critiques and rewrites by the strong model",
        lambda strong, a: TextualGradientDescent(
            lm=strong, gate=Gate() if a.gate else None, edits=a.edits, effort=effort_of(a.optimizer_effort)
        ),
    ),
    "beam": (
        "beam search over rewrites and paraphrases (ProTeGi)",
        lambda strong, a: BeamSearch(lm=strong, edits=a.edits, effort=effort_of(a.optimizer_effort)),
    ),
    "opro": (
        "proposals from the trajectory of scored texts (OPRO)",
        lambda strong, a: OPRO(lm=strong, effort=effort_of(a.optimizer_effort)),
    ),
    "ape": (
        "instructions proposed from examples, then tgd (APE)",
        lambda strong, a: ProposeInstructions(
            lm=strong, then=OPTIMIZERS["tgd"][1](strong, a), effort=effort_of(a.optimizer_effort)
        ),
    ),
    "pareto": (
        "reflective search over a per-example Pareto frontier with per-module critiques (GEPA-style)",
        lambda strong, a: ParetoSearch(lm=strong, effort=effort_of(a.optimizer_effort)),
    ),
    "demos": ("few-shot demos chosen by score, no strong model needed", lambda strong, a: BootstrapDemos()),
    "knn": (
        "each input shown the training examples nearest it (BM25), no model calls to train",
        lambda strong, a: KNNDemos(),
    ),
    "tgd+demos": (
        "tgd and demos in every step",
        lambda strong, a: Chain(OPTIMIZERS["tgd"][1](strong, a), BootstrapDemos()),
    ),
}


BACKENDS = {"claude": "Claude (the Anthropic API)", "local": "local: llama-server on 127.0.0.1"}


def optimizer_name(arguments: argparse.Namespace, backend: str) -> str:
    # On the local model, retrieved demos measured best of what needs no strong model (benchmarks/README.md).
    return arguments.optimizer or ("knn" if backend == "local" else "tgd")


def choose_optimizer(arguments: argparse.Namespace, backend: str, strong: LM | None) -> Optimizer:
    return OPTIMIZERS[optimizer_name(arguments, backend)][1](strong, arguments)


@attrs.frozen
class _NotStarted:
    """Stands for the optimizer model before the backend starts: named, never called, so `Optimizer.called_model()` says
    whether the optimizer would call one."""

    model: str


def _warn_of_the_small_local_model(arguments: argparse.Namespace) -> None:
    """An optimizer that calls a model, on the local backend, is warned of in one line before anything starts."""
    if choose(arguments, say=False) != "local":
        return
    optimizer = choose_optimizer(arguments, "local", strong=_NotStarted(model="local model"))  # type: ignore[arg-type]
    if optimizer.called_model() is None:  # knn and demos call no model to train
        return
    print(
        f"promptgraph: warning: --optimizer {optimizer_name(arguments, 'local')} calls a model to train, and the "
        'local model is too small to write critiques and rewrites (the README: it "cannot write a useful critique '
        'or rewrite a prompt"); use --optimizer knn (the local default), or Claude (set ANTHROPIC_API_KEY) or a '
        "bigger model's server (--base-url URL)",
        file=sys.stderr,
    )


def run_setup(arguments: argparse.Namespace, backend: Backend, optimizer: Optimizer) -> RunSetup:
    """What the run really runs on, for the report: command.json keeps the options as typed, defaults included."""
    name = optimizer_name(arguments, backend.name)
    description = OPTIMIZERS[name][0]
    calls_a_model = optimizer.called_model() is not None  # the report names no optimizer model for one that calls none
    if not calls_a_model:  # its settings (knn's k) are short; a model-calling one's repr holds its whole LM
        description = f"{optimizer!r}, {description}"
    where = BACKENDS.get(backend.name, f"a Messages-API server at {arguments.base_url}")
    return RunSetup(
        backend=where + (", through Message Batches" if arguments.batch else ""),
        model=backend.forward.model,
        optimizer=f"{name}: {description}",
        optimizer_model=backend.optimizer.model if calls_a_model else None,
    )


def run_dry(arguments: argparse.Namespace, trainset: list[Example], valset: list[Example] | None) -> int:
    """Print what the run would cost, spending nothing and starting nothing."""
    backend = choose(arguments)  # the backend the run would really use (no key, no --lm: local, which says so)
    if backend == "local":
        refuse_local_batches(arguments)
    plan = _planned(arguments, trainset, valset, backend)
    budget = metric_calls(arguments.max_metric_calls, validation_pass=plan.valset_size * modules_in(plan.program))
    done, spent = 0, 0
    if arguments.resume:  # what is left: the iterations after the checkpoint, the budget it has not sent
        saved = checkpoint.read(Path(arguments.resume))
        done, spent = saved.iteration, _spent(saved) or 0
        planned = iterations_of(arguments)
        if planned is not None and done >= planned:
            print(f"{arguments.resume} holds a finished run ({done} of {planned} iterations): nothing left to price")
            return 0
        print(f"resuming at iteration {done + 1}{f' of {planned}' if planned is not None else ''}: the rest of the run")
    else:
        _refuse_an_unaffordable_budget(arguments, plan)
    left = budget - spent if budget is not None else None
    phases = estimate_compile(
        plan.program,
        trainset=plan.trainset,
        valset_size=plan.valset_size,
        iterations=_dry_iterations(arguments, left, plan, done=done),
        samples_per_label=arguments.samples_per_label,
        optimizer=plan.optimizer,
        forward_model=plan.forward_model,
        optimizer_model=plan.optimizer_model,
        batch=arguments.batch,
        max_metric_calls=left,
        validated=bool(arguments.resume),
    )
    print(estimate_table(phases, local=backend == "local"))
    print(
        "\ncalls are exact (cache hits make them fewer); input tokens are estimated from the data; output tokens "
        "and USD are upper bounds (every reply at max_tokens, every structured reply with one repair)."
    )
    if left is not None:
        print(
            "under --max-metric-calls the optimizer model's calls are priced for as many steps as the budget can "
            "pay for, each as cheap as a step can be (a child turned down after its minibatch); a run usually "
            "takes fewer. --budget-usd caps the dollars themselves."
        )
    return 0


def _planned(
    arguments: argparse.Namespace, trainset: list[Example], valset: list[Example] | None, backend: str
) -> IterationPlan:
    """What an iteration of this run would do, before anything runs: the program, compile's split, the optimizer."""
    program = build_program(arguments, trainset)
    if valset is None:
        trainset, valset = stratified_split(trainset, arguments.val_per_label, seed=arguments.seed)
    return IterationPlan(
        program=program,
        trainset=trainset,
        valset_size=len(valset),
        samples_per_label=arguments.samples_per_label,
        optimizer=choose_optimizer(arguments, backend, strong=None),  # never called here
        forward_model="local model" if backend == "local" else arguments.model,
        optimizer_model="local model" if backend == "local" else arguments.optimizer_model,
    )


def _refuse_an_unaffordable_budget(arguments: argparse.Namespace, plan: IterationPlan) -> None:
    """A --max-metric-calls that pays for no iteration is refused before the run directory is written (and
    before the pre-flight request); a --budget-usd the first validation may exceed is said in one line."""
    refusal = unaffordable(
        plan, arguments.max_metric_calls, iterations=iterations_of(arguments), option="--max-metric-calls"
    )
    if refusal is not None:
        raise UsageError(refusal)
    said = usd_may_not_pay(plan, arguments.budget_usd, batched=bool(arguments.batch), option="--budget-usd")
    if said is not None:
        print(f"promptgraph: warning: {said}", file=sys.stderr)


def _dry_iterations(arguments: argparse.Namespace, budget: int | None, plan: IterationPlan, *, done: int = 0) -> int:
    """The iterations to price: those asked for after the `done` ones (a resumed run's), capped by the most the
    forward-call budget can pay for, so that the optimizer model's calls are an upper bound."""
    asked = iterations_of(arguments)
    left = asked - done if asked is not None else None
    if budget is None:
        return left if left is not None else 0
    most = iterations_at_most(plan, budget, validated=bool(arguments.resume))  # a resume paid iteration 0's
    return most if left is None else min(left, most)


def compile_summary(result: CompileResult, saved: Path, report: Path) -> str:
    lines = ["iteration  val accuracy  macro F1  unparsed  USD so far"]
    priced = cost_known(result.ledger.accounts())  # as the ledger's table says it: "unknown", or a sum
    for record in result.history:
        marker = "  <- best" if record.iteration == result.best_iteration else "" if record.kept else "  undone"
        val, usd = record.val, f"{record.usd:>10.4f}" if priced else f"{'unknown':>10}"
        lines.append(
            f"{record.iteration:>9}  {val.accuracy:>12.3f}  {val.macro_f1:>8.3f}  {val.unparsed:>8}  {usd}{marker}"
        )
    lines += ["", result.ledger.table(), "", f"program: {saved}", f"report:  {report}"]
    return "\n".join(lines)


def finished_line(result: CompileResult, elapsed: str) -> str:
    """How long the run took, what was undone, and which program was saved when no step beat the first."""
    undone = sum(not record.kept for record in result.history)
    lines = [f"finished in {elapsed}" + (f"; {undone} undone (lost on validation)" if undone else "")]
    if result.best_iteration == 0 and len(result.history) > 1:
        lines.append("no iteration beat the program as given on validation: the saved program is the starting one")
    return "\n".join(lines)


def run_evaluate(arguments: argparse.Namespace) -> int:
    program = with_model_settings(load_program(arguments.program, trust_code=arguments.trust_code), arguments)
    require_inputs(arguments, program.inputs)
    examples = read_examples(arguments, arguments.data, labelled=True)
    require_known_labels(program, examples, arguments.data, labels_option=arguments.labels)
    baseline = evaluate_baseline(arguments, program, examples)  # it costs no call: a warning comes before any
    ledger = Ledger()
    with open_backend(arguments) as backend:
        # Batch ids are kept by the fingerprint of their requests, so one file serves every evaluation.
        batch = batching(arguments, state=cache_directory(arguments) / "evaluate-batches.json")
        traces = program.run(examples, lm=backend.forward, ledger=ledger, tag="evaluate", executor=executor_for(batch))
    failures = Failures()
    failures.add(traces)
    result = evaluate(traces, labels=program.labels)
    print(evaluation_table(result))
    print(baseline.line(result))
    print()
    print(ledger.table())
    if failures.too_many(arguments.max_failure_rate):  # the scores above then say little about the program
        print(failures.verdict(arguments.max_failure_rate, "examples"), file=sys.stderr)
        return 1
    return 0


def evaluation_table(result: Evaluation) -> str:
    columns = list(next(iter(result.confusion.values()), {}))
    width = max(len(name) for name in [*result.labels, *columns, "true \\ predicted"])
    lines = [
        result.summary(),
        "",
        "true \\ predicted".ljust(width) + "".join(f"  {c:>{max(len(c), 5)}}" for c in columns),
    ]
    for label, row in result.confusion.items():
        lines.append(label.ljust(width) + "".join(f"  {row[c]:>{max(len(c), 5)}}" for c in columns))
    return "\n".join(lines)
