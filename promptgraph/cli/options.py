"""Options that several subcommands share: which models, which server, which data."""

from __future__ import annotations

import argparse
from pathlib import Path

from promptgraph.data import DataError, Example, load_examples
from promptgraph.lm import FORWARD_MODEL, LM, OPTIMIZER_MODEL, AnthropicLM, with_cache


def add_model_options(parser: argparse.ArgumentParser, *, optimizer: bool) -> None:
    group = parser.add_argument_group("models")
    group.add_argument(
        "--model", default=FORWARD_MODEL, help=f"the model that runs the program (default {FORWARD_MODEL})"
    )
    if optimizer:
        group.add_argument(
            "--optimizer-model",
            default=OPTIMIZER_MODEL,
            help=f"the model that critiques and rewrites (default {OPTIMIZER_MODEL})",
        )
    group.add_argument(
        "--base-url", help="a server that speaks the Anthropic Messages API, e.g. http://127.0.0.1:8080 (no key needed)"
    )
    group.add_argument("--max-concurrency", type=int, default=8, help="requests in flight at once (default 8)")
    group.add_argument("--no-cache", action="store_true", help="always call the model, never the response cache")


def add_data_options(parser: argparse.ArgumentParser, *, labelled: bool) -> None:
    group = parser.add_argument_group("data columns")
    group.add_argument("--text-column", default="text", help="the column holding the text to classify (default text)")
    group.add_argument("--id-column", help="a column of row ids (default: the row number)")
    if labelled:
        group.add_argument("--label-column", default="label", help="the column holding the true label (default label)")
        group.add_argument("--note-column", help="an optional column of notes the critic may read")
        group.add_argument(
            "--labels",
            help="the labels, in order: 'sincere,insincere', or a mapping from raw values: '0=sincere,1=insincere' "
            "(default: the labels found in the data)",
        )


def build_lm(arguments: argparse.Namespace, model: str) -> LM:
    backend = AnthropicLM(model=model, base_url=arguments.base_url, max_concurrency=arguments.max_concurrency)
    return with_cache(backend, enabled=not arguments.no_cache)


def parse_labels(text: str | None) -> tuple[list[str], dict[str, str] | None]:
    """'a,b' -> (labels, None); '0=a,1=b' -> (labels, {'0': 'a', '1': 'b'})."""
    if not text:
        return [], None
    items = [item.strip() for item in text.split(",") if item.strip()]
    if all("=" in item for item in items):
        mapping = dict(item.split("=", 1) for item in items)
        return list(dict.fromkeys(mapping.values())), mapping
    if any("=" in item for item in items):
        raise DataError(f"--labels mixes names and raw=name pairs: {text!r}; use one form for all")
    return items, None


def read_examples(arguments: argparse.Namespace, path: str | Path, *, labelled: bool) -> list[Example]:
    _, label_map = parse_labels(getattr(arguments, "labels", None))
    return load_examples(
        path,
        inputs={arguments.text_column: "text"},
        label=arguments.label_column if labelled else None,
        note=getattr(arguments, "note_column", None) if labelled else None,
        id=arguments.id_column,
        label_map=label_map,
    )
