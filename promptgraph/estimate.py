"""Estimating what a compile will cost, before spending anything (`promptgraph compile --dry-run`).

Calls are counted exactly from the settings and the data (cache hits would make them
fewer). Input tokens are estimated from prompts rendered from the actual examples, at
about 4 characters a token. Output tokens and dollars are upper bounds: every reply is
counted at its `max_tokens`, and every structured reply is counted with its one repair.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import attrs

from promptgraph.backward import CritiqueLimits
from promptgraph.data import Example, stratified_sample
from promptgraph.lm.base import Usage
from promptgraph.lm.ledger import columns
from promptgraph.lm.prices import price_for
from promptgraph.lm.tokens import count_tokens
from promptgraph.modules.prompt import Prompt
from promptgraph.optimizers import OPRO, BeamSearch, BootstrapDemos, Chain, ProposeInstructions, TextualGradientDescent
from promptgraph.program import Program

UPSTREAM_OUTPUT_TOKENS = 200  # a guess for a value another module will write
CRITIC_OVERHEAD_TOKENS = 1500  # the critic's instructions, roles and metrics
REWRITE_OVERHEAD_TOKENS = 1000
PROPOSE_OVERHEAD_TOKENS = 800


@attrs.frozen
class PhaseEstimate:
    phase: str
    model: str
    calls: int
    input_tokens: int
    max_output_tokens: int
    batched: bool = False  # sent through Message Batches, at half price

    @property
    def max_usd(self) -> float:
        usage = Usage(input_tokens=self.input_tokens, output_tokens=self.max_output_tokens)
        return usage.cost(self.model, batched=self.batched)


def estimate_compile(
    program: Program,
    *,
    trainset: Sequence[Example],
    valset_size: int,
    iterations: int,
    samples_per_label: int,
    optimizer: object,
    forward_model: str,
    optimizer_model: str,
    batch: bool = False,
) -> list[PhaseEstimate]:
    modules = [module for module in program.nodes.values() if isinstance(module, Prompt)]
    if not modules:
        return []
    sample = stratified_sample(trainset, 10, seed=0)
    per_example_in = sum(_prompt_tokens(module, sample) for module in modules)
    per_example_out = sum(module.max_tokens for module in modules)
    minibatch = len(stratified_sample(trainset, samples_per_label, seed=0))
    labels = len({example.label for example in trainset})
    shape = _Shape(
        modules, trainset, labels, minibatch, per_example_in, per_example_out, forward_model, optimizer_model
    )
    phases = [
        shape.forward("forward", iterations * minibatch),
        shape.forward("validate", (iterations + 1) * valset_size),
    ]
    phases += _optimizer_phases(optimizer, shape, iterations)
    if batch:  # `compile --batch` sends every call, the optimizer's too, through Message Batches
        phases = [attrs.evolve(phase, phase=f"{phase.phase} (batched)", batched=True) for phase in phases]
    return phases


@attrs.frozen
class _Shape:
    """What the optimizer estimates need to know of the program and the data."""

    modules: list[Prompt]
    trainset: Sequence[Example]
    labels: int
    minibatch: int
    per_example_in: int
    per_example_out: int
    forward_model: str
    optimizer_model: str

    def forward(self, phase: str, examples: int, *, demos: int = 0) -> PhaseEstimate:
        calls = examples * len(self.modules)
        tokens_in = calls * self.per_example_in * (1 + demos)
        return PhaseEstimate(phase, self.forward_model, calls, tokens_in, calls * self.per_example_out)

    def strong(self, phase: str, calls: int, tokens_in: int, tokens_out: int) -> PhaseEstimate:
        return PhaseEstimate(phase, self.optimizer_model, calls, calls * tokens_in, calls * tokens_out)


def _optimizer_phases(optimizer: object, shape: _Shape, iterations: int) -> list[PhaseEstimate]:
    """The optimizer's own calls over `iterations` steps; structured replies counted with their one repair."""
    trainable = [m for m in shape.modules if any(p.trainable for p in m.parameters())]
    if isinstance(optimizer, Chain):
        return [phase for inner in optimizer.optimizers for phase in _optimizer_phases(inner, shape, iterations)]
    if isinstance(optimizer, ProposeInstructions):
        calls = 2 * len(trainable)
        phases = [
            shape.strong("propose (at most)", calls, PROPOSE_OVERHEAD_TOKENS + optimizer.examples * 100, optimizer.max_tokens),
            shape.forward("proposal scoring", (optimizer.candidates + 1) * len(trainable) * optimizer.dev_per_label * shape.labels),
        ]  # fmt: skip
        if optimizer.then is not None and iterations > 1:
            phases += _optimizer_phases(optimizer.then, shape, iterations - 1)
        return phases
    if isinstance(optimizer, OPRO):
        return [
            shape.strong("propose (at most)", 2 * iterations, PROPOSE_OVERHEAD_TOKENS + optimizer.shown * 300, optimizer.max_tokens),
            shape.forward("proposal scoring", iterations * (optimizer.proposals + 1) * optimizer.dev_per_label * shape.labels),
        ]  # fmt: skip
    if isinstance(optimizer, BootstrapDemos):
        dev = min(optimizer.dev_per_label * shape.labels, len(shape.trainset))
        return [shape.forward("demo search", iterations * (optimizer.candidates + 1) * dev, demos=optimizer.per_module)]
    if isinstance(optimizer, BeamSearch):
        members = optimizer.width
        critic, rewrite = _tgd_phases(
            TextualGradientDescent(lm=optimizer.lm, limits=optimizer.limits), shape, iterations * members
        )
        candidates = members * (1 + optimizer.expansions + optimizer.paraphrases)
        rounds = max(1, candidates - members)
        scored = sum(candidates - dropped for dropped in range(rounds)) * optimizer.per_round * shape.labels
        return [
            shape.forward("beam members", iterations * (members - 1) * shape.minibatch),
            critic,
            attrs.evolve(rewrite, calls=rewrite.calls * optimizer.expansions, input_tokens=rewrite.input_tokens * optimizer.expansions,
                         max_output_tokens=rewrite.max_output_tokens * optimizer.expansions),
            shape.strong("paraphrase (at most)", 2 * iterations * members * optimizer.paraphrases, REWRITE_OVERHEAD_TOKENS, 8000),
            shape.forward("selection", iterations * scored),
        ]  # fmt: skip
    if isinstance(optimizer, TextualGradientDescent):
        phases = list(_tgd_phases(optimizer, shape, iterations))
        if optimizer.gate is not None:
            phases.append(shape.forward("gate", iterations * 2 * optimizer.gate.per_label * shape.labels))
        return phases
    return []


def _tgd_phases(optimizer: TextualGradientDescent, shape: _Shape, steps: int) -> tuple[PhaseEstimate, PhaseEstimate]:
    limits: CritiqueLimits = optimizer.limits
    shown = shape.labels * (limits.mistakes_per_label + limits.correct_per_label)
    per_shown = min(limits.chars_per_field // 4, shape.per_example_in) + min(
        limits.chars_per_field // 4, shape.per_example_out
    )
    trainable = [m for m in shape.modules if any(p.trainable for p in m.parameters())]
    critic = shape.strong(
        "critic (at most)",
        2 * steps * len(shape.modules),
        CRITIC_OVERHEAD_TOKENS + shown * per_shown,
        limits.max_tokens,
    )
    rewrite_in = REWRITE_OVERHEAD_TOKENS + 3 * optimizer.chars_per_feedback // 4
    rewrite = shape.strong("rewrite (at most)", 2 * steps * len(trainable), rewrite_in, optimizer.max_tokens)
    return critic, rewrite


def _prompt_tokens(module: Prompt, sample: Sequence[Example]) -> int:
    """Median tokens of the module's rendered prompt; inputs that another module writes count as a guess."""
    sizes = []
    for example in sample:
        inputs = {name: example.inputs.get(name, "x" * 4 * UPSTREAM_OUTPUT_TOKENS) for name in module.inputs}
        request = module.render(inputs)
        sizes.append(count_tokens(request.system + "".join(message.content for message in request.messages)))
    return int(statistics.median(sizes)) if sizes else 0


def _usd(phase: PhaseEstimate) -> str:
    return f"{phase.max_usd:.4f}" if price_for(phase.model) is not None else "unpriced"


def estimate_table(phases: Sequence[PhaseEstimate]) -> str:
    header = ("phase", "model", "calls", "input tokens", "output tokens (at most)", "USD (at most)")
    rows = [
        (p.phase, p.model, str(p.calls), f"{p.input_tokens:,}", f"{p.max_output_tokens:,}", _usd(p)) for p in phases
    ]
    rows.append(("total", "", str(sum(p.calls for p in phases)), "", "", f"{sum(p.max_usd for p in phases):.4f}"))
    return columns(header, rows)
