"""The model layer: requests, responses, costs, and the backends that serve them."""

from promptgraph.lm.anthropic import FORWARD_MODEL, OPTIMIZER_MODEL, AnthropicLM
from promptgraph.lm.base import LM, Failure, LMError, Message, MissingAPIKey, Request, Response, Usage
from promptgraph.lm.batch import call, map_concurrent, run_all
from promptgraph.lm.breaker import TooManyFailures
from promptgraph.lm.cache import CachedLM, default_cache_dir, request_key, with_cache
from promptgraph.lm.ledger import Account, Ledger
from promptgraph.lm.message_batches import BatchedLM, Batching, run_batch
from promptgraph.lm.prices import PRICES, Price, price_for
from promptgraph.lm.scripted import ScriptedLM

__all__ = [
    "FORWARD_MODEL",
    "LM",
    "OPTIMIZER_MODEL",
    "PRICES",
    "Account",
    "AnthropicLM",
    "BatchedLM",
    "Batching",
    "CachedLM",
    "Failure",
    "LMError",
    "Ledger",
    "Message",
    "MissingAPIKey",
    "Price",
    "Request",
    "Response",
    "ScriptedLM",
    "TooManyFailures",
    "Usage",
    "call",
    "map_concurrent",
    "default_cache_dir",
    "price_for",
    "request_key",
    "run_all",
    "run_batch",
    "with_cache",
]
