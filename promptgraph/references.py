"""References to user code in a saved program: how they are written, and how a trusted load imports them.

A function is saved by name: `package.module:name` when it lives in an importable module,
or `path/to/file.py:name` when it came from a file the user named (`--program
file.py:build`). Such a file is loaded by its path under a name no `import` statement can
spell, so a file called `json.py` never shadows the standard library's `json`, nor is it
shadowed by it. Importing a reference runs code, so only a load the user trusts calls
`import_reference`; everything else goes through the registry of promptgraph's own names.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

FILE_MODULE = "promptgraph-file:"  # not an identifier: no import statement can name or shadow it


def import_file(path: str | Path) -> ModuleType:
    """The module a Python file defines, run once per file and kept in sys.modules under FILE_MODULE + its path."""
    path = Path(path).resolve()
    name = FILE_MODULE + str(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    # At the end of the path: the file may import helpers beside it, but never hide an installed module.
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    sys.modules[name] = module  # before running it, as Python does, so dataclasses and attrs find it
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def reference_of(function: Callable | None) -> str | None:
    """`package.module:name` (or `file.py:name`) of a function a trusted load can import again; None stays None."""
    if function is None:
        return None
    module, name = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if module and module.startswith(FILE_MODULE) and "<" not in name:
        return f"{_shown(Path(module[len(FILE_MODULE) :]))}:{name}"
    if not module or "<" in name or module == "__main__" or importlib.util.find_spec(module) is None:
        raise TypeError(
            f"{function!r} cannot be saved by name: define it as a top-level function in a module Python can "
            "import (a package, or a file on PYTHONPATH), or rebuild the program in code and load only its "
            "values with program.load_values(path)"
        )
    return f"{module}:{name}"


def import_reference(reference: str) -> Any:
    """The object a reference names, importing (running) the code that defines it; ImportError when not found."""
    module_name, _, name = str(reference).rpartition(":")
    try:
        if not module_name or not name:
            raise ValueError("a reference is written module:name or file.py:name")
        target: Any = import_file(module_name) if module_name.endswith(".py") else importlib.import_module(module_name)
        for part in name.split("."):
            target = getattr(target, part)
    except Exception as error:  # trusted code may fail to import in any way; say which reference and how
        detail = str(error) if isinstance(error, (ImportError, AttributeError)) else f"{type(error).__name__}: {error}"
        raise ImportError(f"cannot import {reference!r} ({detail}); is the code that defines it installed?") from None
    return target


def _shown(path: Path) -> str:
    """A file inside the working directory by its relative path, so a project moved elsewhere still loads."""
    try:
        return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)
