"""Settings of every model call a program makes, set at once: effort, temperature, thinking.

Each Prompt module carries its own (saved with it); `compile(temperature=...)` and the CLI's
`--effort` / `--temperature` set them on every prompt module of a program, nested ones too.
"""

from __future__ import annotations

from promptgraph.modules.prompt import Prompt
from promptgraph.program import Program

SETTINGS = ("effort", "temperature", "thinking")


def set_call_settings(program: Program, **settings: object) -> Program:
    """Give every prompt module these settings (those not passed stay as they are); returns the program."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise TypeError(f"no call setting {', '.join(unknown)}; the settings are {', '.join(SETTINGS)}")
    for module in program.nodes.values():
        if isinstance(module, Program):
            set_call_settings(module, **settings)
        elif isinstance(module, Prompt):
            module.set_call_settings(**settings)
    return program
