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

from promptgraph.data import Example, stratified_sample
from promptgraph.lm.ledger import columns
from promptgraph.lm.prices import price_for
from promptgraph.lm.tokens import count_tokens
from promptgraph.modules.prompt import Prompt
from promptgraph.optimizers.base import as_optimizer
from promptgraph.phases import (  # noqa: F401  # PhaseEstimate and the overheads were defined here; still importable
    CRITIC_OVERHEAD_TOKENS,
    PROPOSE_OVERHEAD_TOKENS,
    REWRITE_OVERHEAD_TOKENS,
    PhaseEstimate,
    Shape,
)
from promptgraph.program import Program

UPSTREAM_OUTPUT_TOKENS = 200  # a guess for a value another module will write


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
    max_metric_calls: int | None = None,
    validated: bool = False,
) -> list[PhaseEstimate]:
    """Every phase's calls, tokens and USD; with `max_metric_calls`, the forward calls are capped at it.
    `validated`: iteration 0's validation is paid already (a resumed run), so only the iterations' passes count."""
    shape = shape_of(
        program,
        trainset=trainset,
        samples_per_label=samples_per_label,
        forward_model=forward_model,
        optimizer_model=optimizer_model,
        steps=iterations,
    )
    if shape is None:
        return []
    optimizer = as_optimizer(optimizer)
    shape = attrs.evolve(shape, minibatch=optimizer.minibatch_size(shape.minibatch))
    phases = [
        shape.forward("forward", iterations * shape.minibatch),
        shape.forward("validate", (iterations + (0 if validated else 1)) * valset_size),
    ]
    phases += optimizer.estimate(shape)  # each optimizer prices its own calls
    if max_metric_calls is not None:
        phases = _capped(phases, max_metric_calls)
    if batch:  # `compile --batch` sends every call, the optimizer's too, through Message Batches
        phases = [attrs.evolve(phase, phase=f"{phase.phase} (batched)", batched=True) for phase in phases]
    return phases


def shape_of(
    program: Program,
    *,
    trainset: Sequence[Example],
    samples_per_label: int,
    forward_model: str,
    optimizer_model: str,
    steps: int,
) -> Shape | None:
    """The program and the data measured once for the estimates; None when no module calls a model."""
    modules = [module for module in program.nodes.values() if isinstance(module, Prompt)]
    if not modules:
        return None
    sample = stratified_sample(trainset, 10, seed=0)
    return Shape(
        modules=modules,
        trainset=trainset,
        labels=len({example.label for example in trainset}),
        minibatch=len(stratified_sample(trainset, samples_per_label, seed=0)),
        per_example_in=sum(_prompt_tokens(module, sample) for module in modules),
        per_example_out=sum(module.max_tokens for module in modules),
        forward_model=forward_model,
        optimizer_model=optimizer_model,
        steps=steps,
    )


def _capped(phases: list[PhaseEstimate], budget: int) -> list[PhaseEstimate]:
    """The forward phases scaled down together until their calls fit a budget of `budget` forward calls."""
    total = sum(phase.calls for phase in phases if phase.forward)
    if total <= budget:
        return phases
    share = budget / total
    return [
        attrs.evolve(
            phase,
            phase=f"{phase.phase} (capped by max_metric_calls)",
            calls=int(phase.calls * share),
            input_tokens=int(phase.input_tokens * share),
            max_output_tokens=int(phase.max_output_tokens * share),
        )
        if phase.forward
        else phase
        for phase in phases
    ]


def _prompt_tokens(module: Prompt, sample: Sequence[Example]) -> int:
    """Median tokens of the module's rendered prompt; inputs that another module writes count as a guess."""
    sizes = []
    for example in sample:
        inputs = {name: example.inputs.get(name, "x" * 4 * UPSTREAM_OUTPUT_TOKENS) for name in module.inputs}
        request = module.render(inputs)
        sizes.append(count_tokens(request.system + "".join(message.content for message in request.messages)))
    return int(statistics.median(sizes)) if sizes else 0


def _usd(phase: PhaseEstimate, local: bool) -> str:
    if local:
        return "0 (local)"
    return f"{phase.max_usd:.4f}" if price_for(phase.model) is not None else "unpriced"


def _total_usd(phases: Sequence[PhaseEstimate], local: bool) -> str:
    """The total, never a "0.0000" that leaves out phases nobody could price."""
    usd = f"{sum(p.max_usd for p in phases):.4f}"
    unpriced = not local and any(price_for(p.model) is None for p in phases)
    if not unpriced:
        return usd
    return "unknown" if all(price_for(p.model) is None for p in phases) else f"{usd} + unpriced"


def estimate_table(phases: Sequence[PhaseEstimate], *, local: bool = False) -> str:
    """The phases as a table; `local`: the models run on this machine, so every call costs nothing."""
    header = ("phase", "model", "calls", "input tokens", "output tokens (at most)", "USD (at most)")
    rows = [
        (p.phase, p.model, str(p.calls), f"{p.input_tokens:,}", f"{p.max_output_tokens:,}", _usd(p, local))
        for p in phases
    ]
    rows.append(("total", "", str(sum(p.calls for p in phases)), "", "", _total_usd(phases, local)))
    return columns(header, rows)
