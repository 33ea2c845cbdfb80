"""List prices, USD per million tokens, as published on the Claude models pages (2026-11).

Cache writes (5-minute TTL) cost 1.25x the input price and cache reads 0.1x, for every
model. A request answered through the Message Batches API costs half, all of it. Haiku 5.5 bills a prompt of more than 100,000 tokens at 5x its base rates.
A model missing from the table (a local server's) is unpriced: its calls are counted,
its cost is reported as unknown rather than guessed.
"""

from __future__ import annotations

import re
import types
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from promptgraph.lm.base import Usage

CACHE_WRITE_MULTIPLIER = 1.25
CACHE_READ_MULTIPLIER = 0.1
BATCH_MULTIPLIER = 0.5
PER_TOKEN = 1 / 1_000_000
DATED_SNAPSHOT = re.compile(r"(.+)-\d{8}")


@attrs.frozen
class Price:
    input: float
    output: float
    long_prompt_threshold: int | None = None  # prompt tokens above which long rates apply
    long_prompt_multiplier: float = 1.0

    def cost(self, usage: Usage, *, batched: bool = False) -> float:
        prompt_tokens = usage.input_tokens + usage.cache_write_tokens + usage.cache_read_tokens
        long_prompt = self.long_prompt_threshold is not None and prompt_tokens > self.long_prompt_threshold
        scale = self.long_prompt_multiplier if long_prompt else 1.0
        if batched:
            scale *= BATCH_MULTIPLIER
        input_rate = self.input * scale * PER_TOKEN
        return (
            usage.input_tokens * input_rate
            + usage.cache_write_tokens * input_rate * CACHE_WRITE_MULTIPLIER
            + usage.cache_read_tokens * input_rate * CACHE_READ_MULTIPLIER
            + usage.output_tokens * self.output * scale * PER_TOKEN
        )


PRICES: types.MappingProxyType[str, Price] = types.MappingProxyType(
    {
        "claude-haiku-5-5": Price(0.10, 0.50, long_prompt_threshold=100_000, long_prompt_multiplier=5.0),
        "claude-sonnet-5-5": Price(2.0, 10.0),
        "claude-opus-5-5": Price(4.0, 20.0),
        "claude-fable-5-1": Price(10.0, 50.0),
        "claude-opus-5": Price(5.0, 25.0),
        "claude-sonnet-5": Price(2.0, 10.0),
        "claude-haiku-4-5": Price(1.0, 5.0),
    }
)


def price_for(model: str) -> Price | None:
    """The price of a model id, also of a dated snapshot such as `claude-haiku-5-5-20261001`."""
    snapshot = DATED_SNAPSHOT.fullmatch(model)
    return PRICES.get(snapshot.group(1) if snapshot else model)
