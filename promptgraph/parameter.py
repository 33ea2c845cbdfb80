"""Parameter: a piece of trainable text, with the sentence that tells a critic what it is for.

Like a tensor with `.grad`, a Parameter carries the feedback that reached it during the
last backward pass and the history of every value it has held.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import attrs

from promptgraph.lm.reprs import short, short_mapping
from promptgraph.retrieval import BM25Index, Retriever, tokens

NAME_DEPRECATED = (
    "deprecated: the label given when it was made. Its name in a program is its path, "
    "computed by the walk: `for path, item in program.named_parameters()` (or `named_demos()`)"
)


@attrs.frozen
class Feedback:
    """A critique that reached a parameter (or a module input) from one source."""

    source: str  # who wrote it: "critic of classify", or "passed through format"
    text: str = attrs.field(repr=short)


@attrs.define
class Parameter:
    """A trainable text of a module: its value, the role the critic reads, constraints, feedback, history.

    Listed by `program.named_parameters()` under dotted names (`classify.system`);
    `parameter.trainable = False` (or `module.freeze()`) keeps it as it is.
    """

    value: str = ""
    role: str = "a prompt text"
    trainable: bool = True
    constraints: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    # A label for its repr only: its name in a program is its path, from program.named_parameters().
    _name: str = attrs.field(default="", alias="name", repr=False)
    feedback: list[Feedback] = attrs.field(factory=list, repr=False)
    history: list[str] = attrs.field(factory=list, repr=False)

    def update(self, value: str) -> None:
        """Take a new value, remembering the old one."""
        self.history.append(self.value)
        self.value = value

    def clear_feedback(self) -> None:
        self.feedback.clear()

    @property
    def name(self) -> str:
        """Deprecated: the label it was made with, not its path in a program (see NAME_DEPRECATED)."""
        return _deprecated_name(self)

    @name.setter
    def name(self, label: str) -> None:
        self._name = label

    def __repr__(self) -> str:
        name = f"name={self._name!r}, " if self._name else ""
        return f"Parameter({name}value={short(self.value)}, trainable={self.trainable})"


@attrs.frozen(hash=False)
class Demo:
    """One worked example shown to the model before the real input."""

    inputs: dict[str, str]
    output: str  # the reply the model should give for these inputs

    def __repr__(self) -> str:
        return f"Demo(inputs={short_mapping(self.inputs, shown=2)}, output={short(self.output)})"


@attrs.define
class Demos:
    """A Prompt's few-shot examples: trained by choosing among examples, not by rewriting text.

    With a `retriever` (KNNDemos sets one), `pairs` is a pool and each input is shown only
    the `retriever.k` demos nearest to it; without one, every input is shown every pair.
    """

    pairs: list[Demo] = attrs.field(factory=list, converter=list)
    trainable: bool = True
    _name: str = attrs.field(default="", alias="name", repr=False)  # never set by promptgraph; see Parameter
    history: list[list[Demo]] = attrs.field(factory=list, repr=False)
    retriever: Retriever | None = None
    # The index of the pool as it was last searched: derived from `pairs`, rebuilt when they change.
    _index: tuple[list[Demo], BM25Index] | None = attrs.field(default=None, init=False, eq=False, repr=False)

    @property
    def name(self) -> str:
        """Deprecated: the label it was made with, not its path in a program (see NAME_DEPRECATED)."""
        return _deprecated_name(self)

    @name.setter
    def name(self, label: str) -> None:
        self._name = label

    def update(self, pairs: list[Demo]) -> None:
        self.history.append(list(self.pairs))
        self.pairs = list(pairs)

    def shown(self, inputs: Mapping[str, object], names: Sequence[str]) -> list[Demo]:
        """The demos an input is shown: every pair, or with a retriever the `k` nearest by the
        `names` inputs, the nearest last (next to the input it is like). A demo whose inputs
        are this input's own is never shown: it would hand the model its answer."""
        if self.retriever is None:
            return list(self.pairs)
        pairs, index = self._searched()
        query = {name: str(inputs[name]) for name in names}
        own = frozenset(position for position, demo in enumerate(pairs) if _same_inputs(demo, query, names))
        chosen = index.nearest(tokens(_text_of(query, names)), self.retriever.k, skip=own)
        return [pairs[position] for position in reversed(chosen)]

    def _searched(self) -> tuple[list[Demo], BM25Index]:
        built = self._index
        if built is None or built[0] != self.pairs or built[1].settings != self.retriever:
            pairs = list(self.pairs)
            documents = [tokens(" ".join(demo.inputs.values())) for demo in pairs]
            built = (pairs, BM25Index.of(documents, self.retriever))
            self._index = built  # threads that race here build the same index; either may stay
        return built

    def __repr__(self) -> str:
        retrieved = f", retrieved={self.retriever.k}" if self.retriever is not None else ""
        return f"Demos(pairs={len(self.pairs)}{retrieved}, trainable={self.trainable})"


def _text_of(inputs: Mapping[str, str], names: Sequence[str]) -> str:
    return " ".join(inputs[name] for name in names)


def _same_inputs(demo: Demo, query: Mapping[str, str], names: Sequence[str]) -> bool:
    return all(demo.inputs.get(name) == query[name] for name in names)


def _deprecated_name(item: Parameter | Demos) -> str:
    warnings.warn(f"{type(item).__name__}.name is {NAME_DEPRECATED}", DeprecationWarning, stacklevel=3)
    return item._name
