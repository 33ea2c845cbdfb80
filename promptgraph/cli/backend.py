"""Which models a command runs on: Claude, the local server, or any Messages-API server.

`--base-url URL` wins; then `--lm claude|local` (or `$PROMPTGRAPH_LM`); with neither, Claude
when an Anthropic key is set or a Claude model is named (`--model claude-...`: with no key
that fails as `--lm claude` does, rather than answer from another model), and otherwise the
local backend, with one line saying so.
The local server lives exactly as long as the command that needs it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs

from promptgraph.cli.arguments import fraction, model_name, positive_int, positive_number, thinking, url
from promptgraph.lm import FORWARD_MODEL, LM, OPTIMIZER_MODEL, AnthropicLM, Batching, default_cache_dir, with_cache
from promptgraph.lm.base import EFFORTS, MIN_THINKING_BUDGET
from promptgraph.lm.local import LocalServer
from promptgraph.lm.local_setup import find_local, setup
from promptgraph.prompts import OPTIMIZER_EFFORT

DEFAULT_MAX_CONSECUTIVE_FAILURES = attrs.fields(AnthropicLM).max_consecutive_failures.default
DEFAULT_MAX_CONCURRENCY = 8
LOCAL_NOTE = (
    "promptgraph: no ANTHROPIC_API_KEY is set, so this runs on the local backend "
    "(SmolLM2-135M on llama-server: real, but small and slow). "
    "Set ANTHROPIC_API_KEY or pass --lm claude to use Claude."
)


@attrs.frozen
class Backend:
    name: str  # "claude", "local" or "server"
    forward: LM
    optimizer: LM  # the strong model's role; on the local backend, the same small model


def add_backend_options(parser: argparse.ArgumentParser, *, optimizer: bool, one_request: bool = False) -> None:
    """The options that choose and steer the models; `one_request` leaves out those about many requests."""
    group = parser.add_argument_group("models")
    group.add_argument(
        "--lm",
        choices=("claude", "local"),
        default=os.environ.get("PROMPTGRAPH_LM") or None,
        help="claude (needs ANTHROPIC_API_KEY) or local (llama-server on this machine; see `promptgraph local setup`). "
        "Default: $PROMPTGRAPH_LM, else claude when a key is set or a Claude --model is named, else local",
    )
    group.add_argument(
        "--base-url",
        type=url,
        help="any server that speaks the Anthropic Messages API, e.g. http://127.0.0.1:8080 (no key needed)",
    )
    parser.set_defaults(models_named=())
    group.add_argument(
        "--model",
        type=model_name,
        action=NamedModel,
        default=FORWARD_MODEL,
        help=f"the model {'to ask' if one_request else 'that runs the program'} (default {FORWARD_MODEL})",
    )
    if optimizer:
        group.add_argument(
            "--optimizer-model",
            type=model_name,
            action=NamedModel,
            default=OPTIMIZER_MODEL,
            help=f"the model that critiques and rewrites (default {OPTIMIZER_MODEL})",
        )
    _add_call_settings(group, PROGRAM_CALLS if not one_request else ONE_REQUEST)
    if optimizer:
        group.add_argument(
            "--optimizer-effort",
            choices=(*EFFORTS, "none"),
            default=OPTIMIZER_EFFORT,
            help=f"how hard the optimizer model works on each critique and rewrite (default {OPTIMIZER_EFFORT})",
        )
    group.add_argument("--no-cache", action="store_true", help="always call the model, never the response cache")
    group.add_argument(
        "--cache-dir",
        help="where answers are cached (default $PROMPTGRAPH_CACHE_DIR, else ~/.cache/promptgraph); "
        "a compile records it, and --resume uses the recorded one unless this is given",
    )
    if not one_request:
        _add_many_request_options(group)


class NamedModel(argparse.Action):
    """Stores a model's name and notes it in `models_named`: a default cannot be told from the same name
    typed out, and a Claude model typed out with no key must not run on the local model."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        namespace.models_named = (*namespace.models_named, values)


# What --effort, --thinking and --temperature say: of a program's calls (whose modules have settings of
# their own), or of the one request `ask` sends.
PROGRAM_CALLS = {
    "effort": "how hard the model works on each call of the program; thinking tokens are paid as output "
    "(default: each module's own, low for a new one; none: send no effort, the model's default)",
    "thinking": "extended thinking on the program's calls: a budget of thinking tokens (at least "
    f"{MIN_THINKING_BUDGET}; it counts against each module's max_tokens, which must be above it), adaptive "
    "(the model decides) or disabled (default: each module's own, none for a new one; none: send no "
    "thinking setting, the model's default); thinking tokens are paid as output",
    "temperature": "sampling temperature of the program's calls (default: each module's own; 0, greedy, for a "
    "classifier, so a score means the same from run to run); sent in the body only when set",
}
ONE_REQUEST = {
    "effort": "how hard the model works on the request; thinking tokens are paid as output "
    "(default: none sent, the model's own)",
    "thinking": f"extended thinking: a budget of thinking tokens (at least {MIN_THINKING_BUDGET}, below "
    "--max-tokens), adaptive or disabled (default: none sent, the model's own); paid as output",
    "temperature": "sampling temperature (default: none sent, the model's own)",
}


def _add_call_settings(group: argparse._ArgumentGroup, helps: dict[str, str]) -> None:
    group.add_argument("--effort", choices=(*EFFORTS, "none"), help=helps["effort"])
    group.add_argument("--thinking", type=thinking, metavar="{TOKENS,adaptive,disabled,none}", help=helps["thinking"])
    group.add_argument("--temperature", type=fraction, help=helps["temperature"])


def _add_many_request_options(group: argparse._ArgumentGroup) -> None:
    """How many requests go at once, how many may fail, and Message Batches: nothing to one request."""
    group.add_argument(
        "--max-concurrency", type=positive_int, default=DEFAULT_MAX_CONCURRENCY, help="requests in flight at once"
    )
    group.add_argument(
        "--max-consecutive-failures",
        type=positive_int,
        default=DEFAULT_MAX_CONSECUTIVE_FAILURES,
        help="stop the run, with one message, after this many requests in a row fail even after retries "
        f"(429, 529, 5xx, no connection) (default {DEFAULT_MAX_CONSECUTIVE_FAILURES})",
    )
    group.add_argument(
        "--batch",
        action="store_true",
        help="send the program's calls through the Message Batches API: half price, answers within minutes to "
        "hours; an interrupted run resumes polling the same batches",
    )
    group.add_argument(
        "--poll-seconds",
        type=positive_number,
        default=30.0,
        help="with --batch: how often to ask whether a batch is done",
    )


def batching(arguments: argparse.Namespace, state: Path | None) -> Batching | None:
    """The --batch settings, keeping batch ids in `state`; None without --batch."""
    if not arguments.batch:
        return None
    return Batching(state=state, poll_seconds=arguments.poll_seconds)


def cache_directory(arguments: argparse.Namespace) -> Path:
    """--cache-dir, else $PROMPTGRAPH_CACHE_DIR, else ~/.cache/promptgraph; absolute, as a run records it."""
    given = getattr(arguments, "cache_dir", None)
    directory = (Path(given) if given else default_cache_dir()).expanduser().absolute()
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"the response cache {directory} is a file, not a directory; pass --cache-dir DIR")
    return directory


def choose(arguments: argparse.Namespace, *, say: bool = True) -> str:
    """The backend a run uses; with `say`, a run that falls back to the local model says so on stderr."""
    if arguments.base_url:
        return "server"
    if arguments.lm:
        return arguments.lm
    has_key = os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")
    if has_key or any(name.startswith("claude") for name in getattr(arguments, "models_named", ())):
        return "claude"
    if say:
        print(LOCAL_NOTE, file=sys.stderr)
    return "local"


def refuse_local_batches(arguments: argparse.Namespace) -> None:
    if getattr(arguments, "batch", False):
        raise ValueError("--batch needs Claude or a server with the Message Batches API; the local server has none")


@contextlib.contextmanager
def open_backend(arguments: argparse.Namespace) -> Iterator[Backend]:
    name = choose(arguments)
    cache = not arguments.no_cache
    directory = cache_directory(arguments)
    if name == "local":
        refuse_local_batches(arguments)
        if find_local() is None:  # the first local run builds the server, saying so and for how long
            setup(say=lambda line: print(f"promptgraph: {line}", file=sys.stderr))
        with LocalServer() as server:
            lm = server.lm(max_consecutive_failures=_max_consecutive_failures(arguments))
            lm = with_cache(lm, enabled=cache, directory=directory)
            yield Backend(name, forward=lm, optimizer=lm)
        return

    def remote(model: str) -> AnthropicLM:
        return AnthropicLM(
            model=model,
            base_url=arguments.base_url,
            max_concurrency=getattr(arguments, "max_concurrency", DEFAULT_MAX_CONCURRENCY),
            max_consecutive_failures=_max_consecutive_failures(arguments),
        )

    # Before the first pass: a missing key, a dead server or a refused model fails now, in one request,
    # not after a pass of calls that all fail the same way. Sent to the server itself, never the cache.
    forward = remote(arguments.model)
    forward.probe()
    optimizer = remote(getattr(arguments, "optimizer_model", OPTIMIZER_MODEL))
    if hasattr(arguments, "optimizer_model") and arguments.optimizer_model != arguments.model:
        optimizer.probe()
    yield Backend(
        name,
        forward=with_cache(forward, enabled=cache, directory=directory),
        optimizer=with_cache(optimizer, enabled=cache, directory=directory),
    )


def _max_consecutive_failures(arguments: argparse.Namespace) -> int:
    """As given; `ask` has no such option (one request)."""
    return getattr(arguments, "max_consecutive_failures", DEFAULT_MAX_CONSECUTIVE_FAILURES)
