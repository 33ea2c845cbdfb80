"""`promptgraph serve-test`: the loopback Messages API server from the shell, for offline work.

It is promptgraph.testing.MessagesServer, serving until Ctrl-C: point `--base-url` of any
command (or `base_url=` in Python) at the address it prints. It answers every request with
`--reply`, or with your own function of a promptgraph Request (`--respond file.py:function`,
as in your tests), and prints a line per request it answers.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable

from promptgraph.cli.arguments import UsageError, non_negative_int, text
from promptgraph.cli.options import load_function
from promptgraph.lm import Request
from promptgraph.testing import MessagesServer

MAX_PORT = 65535


def add_command(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve-test",
        help="start the loopback Messages API server, for offline work and tests",
        description="Serve the Anthropic Messages API on 127.0.0.1 until Ctrl-C, answering from a script: the "
        "loopback server of promptgraph.testing, with no model behind it. Point --base-url at the address it "
        "prints. It prints a line per request it answers.",
        epilog="""examples:
  promptgraph serve-test --port 8080 --latency 0.2
  promptgraph ask "hello" --base-url http://127.0.0.1:8080              # in another shell
  promptgraph serve-test --port 8080 --respond examples/scripted_models.py:respond   # the example's stand-ins""",
    )
    serve.add_argument("--port", type=port, default=0, help="the port on 127.0.0.1; 0 takes any free one")
    serve.add_argument("--latency", type=seconds, default=0.0, help="seconds each reply takes, like a model's")
    serve.add_argument("--reply", type=text, default="OK", help="what every request is answered")
    serve.add_argument(
        "--respond",
        metavar="FILE.py:FUNCTION",
        help="answer with your function instead: it gets each promptgraph Request (its .tag says what the "
        "request is: forward, critic, rewrite, ...) and returns the reply's text (default: --reply)",
    )
    serve.set_defaults(run=run_serve_test)


def port(value: str) -> int:
    number = non_negative_int(value)
    if number > MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_PORT}, not {value}")
    return number


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {value!r}") from None
    if not 0 <= number < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {value}")
    return number


def run_serve_test(arguments: argparse.Namespace) -> int:
    answer = _answer(arguments)
    server = MessagesServer(_logged(answer), latency=arguments.latency, port=arguments.port)
    try:
        server.start()
    except OSError as error:
        raise UsageError(f"--port {arguments.port} cannot be served ({error.strerror}); choose another, or 0") from None
    print(f"serving the Messages API at {server.base_url} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()  # until Ctrl-C
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.stop()
    return 0


def _answer(arguments: argparse.Namespace) -> Callable[[Request], str]:
    if arguments.respond is None:
        return lambda request: arguments.reply
    return load_function(arguments.respond, f"--respond {arguments.respond}")


def _logged(answer: Callable[[Request], str]) -> Callable[[Request], str]:
    """The answer, with a line per request: what it was and to which model (flushed, for a pipe)."""

    def respond(request: Request) -> str:
        reply = answer(request)
        print(f"{request.tag} {request.model}: {len(reply)} characters", flush=True)
        return reply

    return respond
