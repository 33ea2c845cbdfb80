"""Writing a file so that it is either the old file or the whole new one, never half of either.

Every file promptgraph writes over (a saved program, a checkpoint, the Message Batches state, the
run report, the marker beside a predictions file) goes through `atomic_write`. It lives in `lm/`,
the bottom layer, because `lm/message_batches.py` needs it and `lm/` imports nothing from above
itself; everything above `lm/` may import downwards, so this is the one place all of them can reach.
It imports nothing from promptgraph.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def atomic_write(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` through a temporary file beside it, then rename it into place.

    The temporary file has a name of its own (process id and a random part), so two writers never
    share one; it is created with `open(mode="x")` rather than `mkstemp`, so the file gets the usual
    umask permissions, not 0600. It is flushed to disk before the rename, so a power cut after the
    rename never leaves an empty file; on any failure it is removed and the old file is untouched.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("x", encoding=encoding) as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
