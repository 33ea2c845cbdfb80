import os
from pathlib import Path

import pytest

from promptgraph.lm.files import atomic_write


def test_atomic_write_replaces_the_file_with_the_new_text(tmp_path: Path):
    target = tmp_path / "state.json"
    target.write_text("old", encoding="utf-8")
    assert atomic_write(target, "new ✓") == target
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary_file(tmp_path: Path):
    target = tmp_path / "state.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(target, "a" * 100_000 + "\ud800")  # a lone surrogate cannot be written as UTF-8
    assert target.read_text(encoding="utf-8") == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]


def test_a_failure_after_writing_before_the_rename_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    target = tmp_path / "state.json"
    target.write_text("old", encoding="utf-8")

    def disk_gone(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", disk_gone)
    with pytest.raises(OSError, match="Input/output error"):
        atomic_write(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["state.json"]


def test_the_written_file_gets_the_usual_permissions_not_a_private_temporary_files(tmp_path: Path):
    # mkstemp makes 0600 files; a saved program or report should be as readable as any file the user writes.
    umask = os.umask(0o022)
    os.umask(umask)
    target = atomic_write(tmp_path / "program.json", "{}")
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
