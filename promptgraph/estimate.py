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
from promptgraph.lm.scripted import count_tokens
from promptgraph.modules.prompt import Prompt
from promptgraph.optimizers.demos import DemoSearch
from promptgraph.optimizers.tgd import TextualGradientDescent
from promptgraph.program import Program

UPSTREAM_OUTPUT_TOKENS = 200  # a guess for a value another module will write
CRITIC_OVERHEAD_TOKENS = 1500  # the critic's instructions, roles and metrics
REWRITE_OVERHEAD_TOKENS = 1000


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
    phases = [
        PhaseEstimate("forward", forward_model, iterations * minibatch * len(modules), iterations * minibatch * per_example_in, iterations * minibatch * per_example_out),
        PhaseEstimate(
            "validate",
            forward_model,
            (iterations + 1) * valset_size * len(modules),
            (iterations + 1) * valset_size * per_example_in,
            (iterations + 1) * valset_size * per_example_out,
        ),
    ]  # fmt: skip
    if isinstance(optimizer, TextualGradientDescent):
        limits: CritiqueLimits = optimizer.limits
        shown = labels * (limits.mistakes_per_label + limits.correct_per_label)
        per_shown = min(limits.chars_per_field // 4, per_example_in) + min(limits.chars_per_field // 4, per_example_out)
        critic_in = CRITIC_OVERHEAD_TOKENS + shown * per_shown
        trainable = [m for m in modules if any(p.trainable for p in m.parameters())]
        calls = 2 * iterations * len(modules)  # one per module on the path, each with a possible repair
        phases.append(
            PhaseEstimate("critic (at most)", optimizer_model, calls, calls * critic_in, calls * limits.max_tokens)
        )
        calls = 2 * iterations * len(trainable)
        rewrite_in = REWRITE_OVERHEAD_TOKENS + 3 * optimizer.chars_per_feedback // 4
        phases.append(
            PhaseEstimate("rewrite (at most)", optimizer_model, calls, calls * rewrite_in, calls * optimizer.max_tokens)
        )
    elif isinstance(optimizer, DemoSearch):
        dev = min(optimizer.dev_per_label * labels, len(trainset))
        calls = iterations * (optimizer.candidates + 1) * dev * len(modules)
        with_demos = per_example_in * (1 + optimizer.per_module)
        phases.append(PhaseEstimate("demo search", forward_model, calls, calls * with_demos, calls * per_example_out))
    if batch:  # `compile --batch` sends every call, the optimizer's too, through Message Batches
        phases = [attrs.evolve(phase, phase=f"{phase.phase} (batched)", batched=True) for phase in phases]
    return phases


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
