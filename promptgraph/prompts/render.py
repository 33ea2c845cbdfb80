"""One function per prompt template: typed keyword arguments in, a Rendered (tag, system, user) out.

The tag says what a request is. The ledger counts by it, it travels to a Messages API
server in a header (lm/anthropic.py), and test doubles key on it, never on wording.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypedDict

from promptgraph.data import Example
from promptgraph.parameter import Feedback
from promptgraph.prompts import schemas
from promptgraph.prompts.environment import Rendered, environment, render

CRITIC = "critic"
REWRITE = "rewrite"
PARAPHRASE = "paraphrase"
OPRO = "opro"
PROPOSE = "propose"
SYNTHESIZE = "synthesize"  # with the phase: "synthesize generate", "synthesize diversify", "synthesize expand"


class Rejected(Protocol):
    value: str
    why: str


class Scored(Protocol):
    values: Mapping[str, str]
    score: float


class ParameterView(TypedDict, total=False):
    """A trainable text as a prompt shows it; `feedback` and `rejected` only in a rewrite."""

    name: str
    role: str
    value: str
    constraints: Sequence[str]
    feedback: Sequence[Feedback]
    rejected: Sequence[Rejected]


class ShownFeedback(TypedDict):
    source: str
    text: str


class CriticExample(TypedDict):
    """One traced example as the critic sees it, at the step under review."""

    verdict: str  # "correct" or "WRONG"
    score: float  # the metric's score; shown when between 0 and 1
    feedback: str  # what the metric said of the answer, for this step's critic; "" when nothing
    expected: str
    answered: str  # the program's answer, or its status in brackets: "(parse_error)"
    inputs: Mapping[str, str]  # the step's inputs
    outputs: Mapping[str, str]  # the step's parsed outputs, when there are several
    note: str | None
    always: bool
    reply: str
    error: str | None


def critic(
    *,
    node: str,
    description: str,
    parameters: Sequence[ParameterView],
    upstream_inputs: Sequence[tuple[str, str]],
    downstream: Sequence[ShownFeedback],
    summary: str,
    examples: Sequence[CriticExample],
    limit: int,
    words: int,
) -> Rendered:
    return render(
        "critic", tag=CRITIC, schema=schemas.critic(_names(parameters), [field for field, _ in upstream_inputs]), node=node, description=description, parameters=parameters,
        upstream_inputs=upstream_inputs, downstream=downstream, summary=summary, examples=examples, limit=limit,
        words=words,
    )  # fmt: skip


def rewrite(
    *, node: str, description: str, summary: str, parameters: Sequence[ParameterView], limit: int, edits: bool
) -> Rendered:
    return render(
        "rewrite", tag=REWRITE, schema=schemas.rewrite(_names(parameters), edits=edits), node=node, description=description, summary=summary, parameters=parameters,
        limit=limit, edits=edits,
    )  # fmt: skip


def paraphrase(*, parameters: Sequence[ParameterView]) -> Rendered:
    return render("paraphrase", tag=PARAPHRASE, schema=schemas.values(_names(parameters)), parameters=parameters)


def opro(
    *, parameters: Sequence[ParameterView], trajectory: Sequence[Scored], examples: Sequence[Example], count: int
) -> Rendered:
    return render(
        "opro", tag=OPRO, schema=schemas.proposals(_names(parameters)), parameters=parameters,
        trajectory=trajectory, examples=examples, count=count,
    )  # fmt: skip


def propose(
    *, name: str, role: str, constraints: Sequence[str], value: str, examples: Sequence[Example], count: int
) -> Rendered:
    return render(
        "propose", tag=PROPOSE, schema=schemas.texts_under("instructions"), name=name, role=role, constraints=constraints, value=value, examples=examples,
        count=count,
    )  # fmt: skip


def synthesize_generate(
    *, name: str, description: str, others: Sequence[str], examples: Sequence[str], count: int
) -> Rendered:
    return render(
        "synthesize_generate", tag=f"{SYNTHESIZE} generate", schema=schemas.texts_under("summaries"), name=name, description=description, others=others,
        examples=examples, count=count,
    )  # fmt: skip


def synthesize_diversify(*, name: str, description: str, summaries: Sequence[str], count: int) -> Rendered:
    return render(
        "synthesize_diversify", tag=f"{SYNTHESIZE} diversify", schema=schemas.texts_under("summaries"), name=name, description=description,
        summaries=summaries, count=count,
    )  # fmt: skip


def synthesize_expand(*, name: str, description: str, examples: Sequence[str], summaries: Sequence[str]) -> Rendered:
    return render(
        "synthesize_expand", tag=f"{SYNTHESIZE} expand", schema=schemas.texts_under("examples"), name=name, description=description, examples=examples,
        summaries=summaries,
    )  # fmt: skip


def _names(parameters: Sequence[ParameterView]) -> list[str]:
    return [parameter["name"] for parameter in parameters]


def repair(*, problems: Sequence[str]) -> str:
    """The user message of a JSON reply's one repair round: it goes out under the first request's tag."""
    return environment().get_template("repair.j2").render(problems=problems).strip()
