"""An exclusive lock on a file or run directory, that says who holds it.

Two `predict` runs appending to one output, or two `compile` runs writing one run
directory, would interleave their rows and checkpoints. Each takes this lock first; a
second one is refused at once with the holder's pid, host, command and start time.

Built on `fcntl.flock` (Linux and macOS) rather than a library such as `filelock`: flock
is what such a library uses underneath, but we also need to record and read back the
holder, which is a few lines more either way, and it costs no dependency. The kernel
drops a flock when its process dies, so a lock left by a killed run never blocks the next
one; the holder's details are only read while the lock is held by someone.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket
import sys
from pathlib import Path

import attrs

from promptgraph.errors import PromptgraphError


class LockHeld(RuntimeError, PromptgraphError):
    """Another process holds the lock; the message names it."""


@attrs.define
class Lock:
    """Held from `acquire` to `release` (or the end of a `with` block)."""

    path: Path
    _fd: int | None = attrs.field(default=None, repr=False)

    @classmethod
    def acquire(cls, path: str | Path, *, what: str) -> Lock:
        """Take the lock at `path` for `what` (e.g. "the output labels.csv"), or raise LockHeld naming the holder."""
        path = Path(path)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                raise LockHeld(f"{what} is in use by {holder}; wait for it to end, or stop it") from None
            # A holder that was releasing may have removed the file between our open and our
            # lock: then we locked a file nobody else can see, and must take the path's new one.
            if _same_file(fd, path):
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(_holder()).encode() + b"\n")
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is None:
            return
        # Removed while still held, so no one can lock the old file after we let go of it.
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


def _holder() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(["promptgraph", *sys.argv[1:]]) if sys.argv else "python",
        "since": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _read(fd: int) -> str:
    """'pid 12 on host since ...: command', or as much as the holder has written yet."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or "pid" not in data:
        return "another process (it has not said which yet)"
    return f"pid {data['pid']} on {data.get('host')} since {data.get('since')} ({data.get('command')})"


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_ino, held.st_dev) == (on_disk.st_ino, on_disk.st_dev)
