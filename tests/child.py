"""The promptgraph command in a child process, for tests that interrupt it or run two at once."""

import sys

# SIGINT must act as Ctrl-C even when the tests run as a background job, which starts with it ignored.
SCRIPT = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from promptgraph.cli import main
sys.exit(main(sys.argv[1:]))
"""


def promptgraph_command(*arguments: str) -> list[str]:
    """The argv of `promptgraph ARGUMENTS...` run by this test's Python."""
    return [sys.executable, "-c", SCRIPT, *arguments]
