"""Options that several subcommands share: which data, which program."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from promptgraph.call_settings import set_call_settings
from promptgraph.cli.arguments import UsageError
from promptgraph.data import DataError, Example, load_examples
from promptgraph.program import Program
from promptgraph.references import import_file
from promptgraph.saving import load


def add_data_options(parser: argparse.ArgumentParser, *, labelled: bool) -> None:
    group = parser.add_argument_group("data columns")
    group.add_argument("--text-column", default="text", help="the column holding the text to classify (default text)")
    group.add_argument(
        "--inputs",
        help="for programs with several inputs: the columns to read, 'question,reference,answer' "
        "(named as the program's inputs) or 'column=input,...' (overrides --text-column)",
    )
    group.add_argument("--id-column", help="a column of row ids (default: the row number)")
    if labelled:
        group.add_argument("--label-column", default="label", help="the column holding the true label (default label)")
        group.add_argument("--note-column", help="an optional column of notes the critic may read")
        group.add_argument(
            "--always-column",
            help="an optional column flagging canonical examples (1/true/yes), kept in every minibatch and critique",
        )
        group.add_argument(
            "--labels",
            help="the labels, in order: 'sincere,insincere', or a mapping from raw values: '0=sincere,1=insincere' "
            "(default: the labels found in the data)",
        )


def add_trust_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust-code",
        action="store_true",
        help="a saved program may name Python code that is not promptgraph's own (its modules, parsers, "
        "functions): import and run it. Only for files you trust, as you would import only code you trust",
    )


def names_code(spec: str) -> bool:
    """Whether a --program runs code to build the program (`file.py:function`) rather than loading a saved one."""
    return not spec.endswith(".json") and ":" in spec


def effort_of(value: str | None) -> str | None:
    """An --effort value as modules and optimizers take it: "none" sends no effort at all."""
    return None if value == "none" else value


def thinking_of(value: str | int | None) -> str | int | None:
    """A --thinking value as modules and requests take it: "none" sends no thinking setting at all."""
    return None if value == "none" else value


def with_model_settings(program: Program, arguments: argparse.Namespace) -> Program:
    """Every prompt module's effort, thinking and temperature, nested programs' included, as --effort,
    --thinking and --temperature say (one not given: the modules' own)."""
    settings: dict[str, object] = {}
    if arguments.effort is not None:
        settings["effort"] = effort_of(arguments.effort)
    if arguments.thinking is not None:
        settings["thinking"] = thinking_of(arguments.thinking)
    if arguments.temperature is not None:
        settings["temperature"] = arguments.temperature
    return set_call_settings(program, **settings)


def load_program(spec: str, *, trust_code: bool = False) -> Program:
    """A saved program (`x.json`), or `path/to/file.py:function` that returns a Program."""
    if not names_code(spec):
        if spec.endswith(".py"):
            raise ValueError(f"--program {spec}: name the function that builds the program, as {spec}:build")
        return load(spec, trust_code=trust_code)
    where, name = f"--program {spec}", spec.rpartition(":")[2]
    build = load_function(spec, where, otherwise=", or give a saved .json")
    try:
        program = build()
    except Exception as error:  # the user's code: say where it failed, in one line
        raise ValueError(f"{where}: {name}() raised {_one_line(error)}") from None
    if not isinstance(program, Program):
        raise ValueError(f"{where}: {name}() returned {type(program).__name__}, not a promptgraph Program")
    return program


def load_function(spec: str, where: str, otherwise: str = "") -> Callable:
    """The function `path/to/file.py:function` names; `where` (the option) begins every error."""
    file, _, name = spec.rpartition(":")
    if not file.endswith(".py"):
        raise ValueError(f"{where}: {file!r} is not a Python file; write path/to/file.py:function{otherwise}")
    if not Path(file).is_file():
        raise ValueError(f"{where}: there is no file {file}")
    # The user named this file, so its code runs. By its path, under a name that shadows nothing;
    # functions it defines are saved as `file.py:name` and a trusted load imports them the same way.
    try:
        module = import_file(file)
    except Exception as error:
        raise ValueError(f"{where}: {file} cannot be run: {_one_line(error)}") from None
    build = getattr(module, name, None)
    if build is None:
        raise ValueError(f"{where}: {file} has no function {name}")
    if not callable(build):
        raise ValueError(f"{where}: {name} in {file} is not a function but {type(build).__name__}")
    return build


def _one_line(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def parse_labels(text: str | None) -> tuple[list[str], dict[str, str] | None]:
    """'a,b' -> (labels, None); '0=a,1=b' -> (labels, {'0': 'a', '1': 'b'}).

    Several raw values may share a name ('0=neg,1=neg,2=pos' merges classes); a raw value
    may be empty ('=other' names the rows with no label).
    """
    if text is None:
        return [], None
    items = [item.strip() for item in text.split(",")]
    if any("=" in item for item in items) and not all("=" in item for item in items):
        raise UsageError(f"--labels mixes names and raw=name pairs: {text!r}; use one form for all")
    pairs = [[part.strip() for part in item.split("=", 1)] for item in items] if "=" in text else None
    names = [pair[1] for pair in pairs] if pairs else items
    if "" in names:
        raise UsageError(f"--labels {text!r} has an empty name; write 'a,b' or '0=a,1=b'")
    _refuse_repeats([pair[0] for pair in pairs] if pairs else names, "--labels gives {!r} twice")
    labels = list(dict.fromkeys(names))
    if len(labels) < 2:
        raise UsageError(f"--labels {text!r} gives one label, {labels[0]!r}; a classifier needs two or more")
    mapping = dict(pairs) if pairs else None
    return labels, mapping


def input_columns(arguments: argparse.Namespace) -> dict[str, str]:
    """Column -> program input, from --inputs or else --text-column."""
    if not arguments.inputs:
        return {arguments.text_column: "text"}
    pairs = [[part.strip() for part in item.split("=", 1)] for item in arguments.inputs.split(",")]
    if any(not part for pair in pairs for part in pair):
        raise UsageError(f"--inputs {arguments.inputs!r} has an empty name; write 'a,b' or 'column=input,...'")
    _refuse_repeats([pair[0] for pair in pairs], "--inputs reads column {!r} twice")
    _refuse_repeats([pair[-1] for pair in pairs], "--inputs names the input {!r} twice")
    return {pair[0]: pair[-1] for pair in pairs}


def require_inputs(arguments: argparse.Namespace, inputs: Sequence[str]) -> None:
    """The columns chosen give every input the program reads."""
    given = set(input_columns(arguments).values())
    if not set(inputs) <= given:
        raise UsageError(
            f"the program reads the inputs {', '.join(inputs)}, but the columns chosen give "
            f"{', '.join(sorted(given))}; choose them with --inputs {','.join(inputs)} (or column=input,...)"
        )


def _refuse_repeats(names: list[str], message: str) -> None:
    repeated = next((name for index, name in enumerate(names) if name in names[:index]), None)
    if repeated is not None:
        raise UsageError(message.format(repeated))


def read_examples(arguments: argparse.Namespace, path: str | Path, *, labelled: bool) -> list[Example]:
    labels, label_map = parse_labels(getattr(arguments, "labels", None))
    pairs = label_map
    if labels and label_map is None:  # names given: a label in the data that is not one of them is a mistake
        label_map = {label: label for label in labels}

    def load(mapping: dict[str, str] | None) -> list[Example]:
        return load_examples(
            path,
            inputs=input_columns(arguments),
            label=arguments.label_column if labelled else None,
            note=getattr(arguments, "note_column", None) if labelled else None,
            always=getattr(arguments, "always_column", None) if labelled else None,
            id=arguments.id_column,
            label_map=mapping,
        )

    try:
        return load(label_map)
    except DataError:
        if labelled and pairs:
            _refuse_reversed_labels(arguments, path, pairs, load)
        raise


def _refuse_reversed_labels(
    arguments: argparse.Namespace, path: str | Path, pairs: dict[str, str], load: Callable[[None], list[Example]]
) -> None:
    """`--labels sincere=0` where the data holds 0: say that the raw value comes first, and what to write."""
    try:
        raw = {example.label for example in load(None)}
    except DataError:
        return  # the data has another problem: the first error says which
    if raw & set(pairs) or not raw & set(pairs.values()):
        return
    turned = ",".join(f"{name}={value}" for value, name in pairs.items())
    raise UsageError(
        f"--labels {arguments.labels!r} is the wrong way round: it reads raw=name, the value in the "
        f"{arguments.label_column!r} column of {path} first, then the label's name ({', '.join(map(repr, sorted(raw)))} "
        f"are in the column); write --labels {turned}"
    )
