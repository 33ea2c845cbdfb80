"""promptgraph: programs of LLM calls whose prompts are trained by textual backpropagation."""

from promptgraph.lm import (
    FORWARD_MODEL,
    OPTIMIZER_MODEL,
    AnthropicLM,
    CachedLM,
    Failure,
    Ledger,
    LMError,
    Request,
    Response,
    ScriptedLM,
    Usage,
    call,
    run_all,
    with_cache,
)

__version__ = "0.1.0"

__all__ = [
    "FORWARD_MODEL",
    "OPTIMIZER_MODEL",
    "AnthropicLM",
    "CachedLM",
    "Failure",
    "LMError",
    "Ledger",
    "Request",
    "Response",
    "ScriptedLM",
    "Usage",
    "call",
    "run_all",
    "with_cache",
]
