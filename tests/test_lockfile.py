import os
import signal
import subprocess
import sys

import pytest

from promptgraph.lockfile import Lock, LockHeld

HOLD = """
import sys
from promptgraph.lockfile import Lock
lock = Lock.acquire(sys.argv[1], what="the test file")
print("held", flush=True)
sys.stdin.read()  # held until the test closes our stdin, or kills us
"""


def test_a_held_lock_is_refused_naming_its_holder(tmp_path):
    with Lock.acquire(tmp_path / "x.lock", what="the output x"):
        with pytest.raises(LockHeld, match=rf"the output x is in use by pid {os.getpid()} on \S+ since \d{{4}}-"):
            Lock.acquire(tmp_path / "x.lock", what="the output x")


def test_a_released_lock_leaves_no_file_and_can_be_taken_again(tmp_path):
    Lock.acquire(tmp_path / "x.lock", what="x").release()
    assert not (tmp_path / "x.lock").exists()
    Lock.acquire(tmp_path / "x.lock", what="x").release()


def test_a_lock_left_by_a_killed_process_does_not_block_the_next(tmp_path):
    path = tmp_path / "x.lock"
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"held\n"
        with pytest.raises(LockHeld, match=f"pid {child.pid} "):
            Lock.acquire(path, what="x")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    assert path.exists()  # the killed process could not clean up
    Lock.acquire(path, what="x").release()
