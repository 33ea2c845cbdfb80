"""Synthesize a labelled trainset from a sentence or two per class, with the strong model.

The pipeline Lamini's LLM classifier popularised, from promptgraph's own pieces:

1. Generation: per class, ask for several short summaries of examples at once (at most
   about ten words each), given the class description and a few of the real examples,
   drawn and shuffled with the seed.
2. Diversification: show a random sample of the summaries so far and ask for new ones
   that are similar but substantially different. This widens the set more than a higher
   temperature would, which also lowers quality.
3. Expansion: turn each summary into a complete example consistent with its class.
4. De-duplication, exact and near (word overlap), then the same number per class.

Every step asks for JSON (repaired once); a reply that still cannot be used is skipped
with a warning, never a crash. A class with real examples and no description is learned
from its examples.
"""

from __future__ import annotations

import csv
import json
import random
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from promptgraph import prompts
from promptgraph.data import DataError, Example
from promptgraph.errors import PromptgraphError
from promptgraph.lm import LM, Ledger, map_concurrent
from promptgraph.lm.reprs import listed
from promptgraph.structured import ask_json


class SynthesisError(RuntimeError, PromptgraphError):
    """The model's replies held no usable example of a class: the calls were made and paid for, so the run failed."""


@attrs.define
class Classes:
    """What the user knows of each class: a description, real examples, or both."""

    descriptions: dict[str, str] = attrs.field(factory=dict)
    examples: dict[str, list[str]] = attrs.field(factory=dict)

    def __repr__(self) -> str:
        return f"Classes(names={listed(self.names)}, examples={sum(len(texts) for texts in self.examples.values())})"

    @property
    def names(self) -> list[str]:
        """Described classes in their order, then classes known only from examples."""
        return list(dict.fromkeys([*self.descriptions, *self.examples]))

    def add_examples(self, class_name: str, texts: Iterable[str]) -> Classes:
        texts = [text for text in texts if isinstance(text, str) and text.strip()]
        self.examples.setdefault(class_name, []).extend(texts)
        return self

    def save_examples(self, path: str | Path) -> Path:
        """The real examples as JSONL, one line per class: {"class_name": ..., "examples": [...]}."""
        path = Path(path)
        lines = [
            json.dumps({"class_name": name, "examples": texts}, ensure_ascii=False)
            for name, texts in self.examples.items()
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Classes:
        """A JSON object of descriptions ({"name": "description"}), or JSONL lines of
        {"class_name": ..., "description": ..., "examples": [...]} (both keys optional)."""
        path = Path(path)
        if not path.exists():
            raise DataError(f"{path} does not exist")
        if path.is_dir():
            raise DataError(f"{path} is a directory; give a .json or .jsonl file of classes")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise DataError(f"{path} is not UTF-8 (byte offset {error.start}); save the file as UTF-8") from None
        classes = cls()
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                raise DataError(f"{path} is not JSON: {error}") from None
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                raise DataError(f'{path} must be an object of class descriptions: {{"class name": "description", ...}}')
            classes.descriptions = dict(data)
            return classes.named(path)
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"{path} line {number} is not JSON: {error}") from None
            if not isinstance(row, dict) or not isinstance(row.get("class_name"), str):
                raise DataError(f'{path} line {number} needs a "class_name" (and "examples" and/or "description")')
            if isinstance(row.get("description"), str):
                classes.descriptions[row["class_name"]] = row["description"]
            examples = row.get("examples", [])
            if not isinstance(examples, list):
                raise DataError(f'{path} line {number}: "examples" must be a list of texts')
            classes.add_examples(row["class_name"], examples)
        return classes.named(path)

    def named(self, path: Path) -> Classes:
        """These classes, once every one is known to have a name and a description or examples."""
        for name in self.names:
            if not name.strip():
                raise DataError(f"{path}: a class has an empty name; name every class")
            if not self.descriptions.get(name, "").strip() and not self.examples.get(name):
                raise DataError(f"{path}: class {name!r} has neither a description nor examples")
        return self


@attrs.frozen
class Synthesized:
    """What `pg.synthesize` returns: the examples, per-class counts through its phases, and the replies skipped."""

    examples: tuple[Example, ...]  # balanced, shuffled with the seed; label = class name
    counts: dict[str, dict[str, int]]  # per class: summaries, expanded, duplicates dropped, kept
    skipped: tuple[str, ...]  # replies that could not be used, and why

    def __repr__(self) -> str:
        return f"Synthesized(examples={len(self.examples)}, labels={listed(self.counts)}, skipped={len(self.skipped)})"

    def balance(self) -> str:
        """A table of what each class got through the phases."""
        header = f"{'class':<20} {'summaries':>9} {'expanded':>8} {'duplicates':>10} {'kept':>5}"
        rows = [
            f"{name:<20} {c['summaries']:>9} {c['expanded']:>8} {c['duplicates']:>10} {c['kept']:>5}"
            for name, c in self.counts.items()
        ]
        return "\n".join([header, *rows])

    def save(self, path: str | Path) -> Path:
        """CSV (text,label) or JSONL, by the suffix."""
        path = Path(path)
        rows = [{"id": example.id, "text": example.inputs["text"], "label": example.label} for example in self.examples]
        if path.suffix.lower() == ".jsonl":
            path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
        else:
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=["id", "text", "label"])
                writer.writeheader()
                writer.writerows(rows)
        return path


def synthesize(
    classes: Classes | dict[str, str],
    *,
    lm: LM,
    per_class: int = 50,
    examples: dict[str, Sequence[str]] | None = None,
    seed: int = 0,
    per_call: int = 10,
    shown: int = 5,
    similarity: float = 0.8,
    avoid: Sequence[str] = (),
    ledger: Ledger | None = None,
    progress: bool | None = None,
    effort: str | None = prompts.OPTIMIZER_EFFORT,
) -> Synthesized:
    """A labelled trainset of `per_class` examples per class (fewer if the model repeats itself).

    `lm` is the strong model. `examples` adds real examples per class to `classes`; `shown`
    of them (drawn with the seed) are shown to each call. `similarity` is the word-overlap
    above which two examples count as duplicates. Nothing close to a text in `avoid` (a real
    held-out set) is kept, so synthetic data never leaks into what it is tested on.
    """
    if not isinstance(classes, Classes):
        classes = Classes(descriptions=dict(classes))
    for name, texts in (examples or {}).items():
        classes.add_examples(name, texts)
    if len(classes.names) < 2:
        raise DataError("a classifier needs at least two classes; describe them or give examples of each")
    if per_class < 1:
        raise ValueError("per_class must be at least 1")
    rng = random.Random(seed)
    job = _Job(classes, lm, ledger, rng, per_call, shown, progress, effort)
    # Generate half, diversify to the rest; a quarter more than needed, for what dedup drops.
    wanted = max(1, round(per_class * 1.25))
    summaries = job.phase("generate", {name: (wanted + 1) // 2 for name in classes.names}, {})
    summaries = job.phase("diversify", {name: wanted - len(summaries[name]) for name in classes.names}, summaries)
    expanded = job.expand(summaries)
    kept: dict[str, list[str]] = {}
    counts: dict[str, dict[str, int]] = {}
    real = [text for texts in classes.examples.values() for text in texts]
    seen: list[set[str]] = [
        _words(text) for text in [*real, *avoid]
    ]  # no copies of real examples, nor of held-out ones
    for name in classes.names:
        unique = _deduplicated(expanded[name], seen, similarity)
        kept[name] = unique[:per_class]
        counts[name] = {
            "summaries": len(summaries[name]),
            "expanded": len(expanded[name]),
            "duplicates": len(expanded[name]) - len(unique),
            "kept": 0,
        }
    balanced = min(len(texts) for texts in kept.values())
    short = [f"{name} ({len(texts)})" for name, texts in kept.items() if len(texts) < per_class]
    if balanced == 0:
        raise SynthesisError(
            f"no usable synthetic examples for {', '.join(n for n, t in kept.items() if not t)}; describe the class "
            "more concretely or give a few real examples of it"
        )
    if short:
        warnings.warn(
            f"fewer than {per_class} usable examples for {', '.join(short)}; every class keeps {balanced} so they "
            "stay balanced",
            stacklevel=2,
        )
    result = []
    for name in classes.names:
        counts[name]["kept"] = balanced
        result += [
            Example({"text": text}, name, id=f"synthetic-{name}-{n}") for n, text in enumerate(kept[name][:balanced])
        ]
    rng.shuffle(result)
    return Synthesized(tuple(result), counts, tuple(job.skipped))


@attrs.define
class _Job:
    classes: Classes
    lm: LM
    ledger: Ledger | None
    rng: random.Random
    per_call: int
    shown: int
    progress: bool | None
    effort: str | None
    skipped: list[str] = attrs.field(factory=list)

    def real(self, name: str) -> list[str]:
        texts = list(self.classes.examples.get(name, []))
        self.rng.shuffle(texts)
        return texts[: self.shown]

    def phase(self, phase: str, counts: dict[str, int], known: dict[str, list[str]]) -> dict[str, list[str]]:
        """Summaries per class: `known` plus `counts[name]` new ones, asked for `per_call` at a time."""
        tasks = []
        for name in self.classes.names:
            for start in range(0, max(0, counts[name]), self.per_call):
                count = min(self.per_call, counts[name] - start)
                if phase == "generate":
                    others = [other for other in self.classes.names if other != name]
                    prompt = prompts.synthesize_generate(
                        name=name, description=self.classes.descriptions.get(name, ""), others=others,
                        examples=self.real(name), count=count,
                    )  # fmt: skip
                else:
                    pool = known.get(name, [])
                    sample = self.rng.sample(pool, min(len(pool), 2 * self.per_call))
                    prompt = prompts.synthesize_diversify(
                        name=name, description=self.classes.descriptions.get(name, ""), summaries=sample, count=count
                    )
                tasks.append((name, prompt, count, len(tasks)))
        replies = map_concurrent(lambda task: self._ask(phase, task, "summaries"), tasks, workers=self.lm.max_concurrency,
                                 progress=self.progress, description=phase)  # fmt: skip
        result = {name: list(known.get(name, [])) for name in self.classes.names}
        for (name, _, count, _), texts in zip(tasks, replies, strict=True):
            result[name] += [_short(text) for text in texts[:count]]
        return result

    def expand(self, summaries: dict[str, list[str]]) -> dict[str, list[str]]:
        tasks = []
        for name in self.classes.names:
            for start in range(0, len(summaries[name]), self.per_call):
                chunk = summaries[name][start : start + self.per_call]
                prompt = prompts.synthesize_expand(
                    name=name, description=self.classes.descriptions.get(name, ""), examples=self.real(name),
                    summaries=chunk,
                )  # fmt: skip
                tasks.append((name, prompt, len(chunk), len(tasks)))
        replies = map_concurrent(lambda task: self._ask("expand", task, "examples"), tasks, workers=self.lm.max_concurrency,
                                 progress=self.progress, description="expand")  # fmt: skip
        result: dict[str, list[str]] = {name: [] for name in self.classes.names}
        for (name, _, _, _), texts in zip(tasks, replies, strict=True):
            result[name] += texts
        return result

    def _ask(self, phase: str, task: tuple[str, prompts.Rendered, int, int], key: str) -> list[str]:
        name, prompt, count, number = task

        def check(data) -> list[str]:
            texts = data.get(key)
            if not isinstance(texts, list) or not any(isinstance(t, str) and t.strip() for t in texts):
                return [f'"{key}" must be a list of {count} texts']
            return []

        # Each call its own seed: the same prompt asked twice (two chunks of a class) must
        # not come back from the response cache as the same answer.
        reply = ask_json(
            self.lm, prompt.request(max_tokens=4000, seed=number, effort=self.effort), check, ledger=self.ledger
        )
        if reply.data is None:
            why = f"{phase} for {name!r}: skipped a reply ({'; '.join(reply.problems)})"
            self.skipped.append(why)
            warnings.warn(why, stacklevel=2)
            return []
        return [text.strip() for text in reply.data[key] if isinstance(text, str) and text.strip()]


def _short(summary: str) -> str:
    """A summary kept to about ten words, as asked."""
    return " ".join(summary.split()[:14])


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _deduplicated(texts: Sequence[str], seen: list[set[str]], similarity: float) -> list[str]:
    """Texts in order, without exact or near repeats (Jaccard overlap of their words above `similarity`)."""
    unique = []
    for text in texts:
        words = _words(text)
        if not words:
            continue
        if any(len(words & other) / len(words | other) >= similarity for other in seen):
            continue
        seen.append(words)
        unique.append(text)
    return unique
