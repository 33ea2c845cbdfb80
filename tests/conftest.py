"""Every test runs hermetically: no key, no real response cache, no credential profile.

The local backend's files (a built llama-server and a model) are the one thing taken from
the real machine: they are found before HOME is redirected, and tests that need them
are skipped, saying how to get them, where they are missing.
"""

import pytest

from promptgraph.lm.local_setup import find_local, local_dir

LOCAL_DIR = local_dir()
LOCAL_FILES = find_local(LOCAL_DIR)


@pytest.fixture(autouse=True)
def hermetic_environment(tmp_path, monkeypatch):
    for variable in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CONFIG_DIR",
        "PROMPTGRAPH_LM",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no credential profile, no real ~/.cache
    monkeypatch.setenv("PROMPTGRAPH_LOCAL_DIR", str(LOCAL_DIR))


requires_local = pytest.mark.skipif(
    LOCAL_FILES is None,
    reason=f"the local backend is not set up in {LOCAL_DIR}: run `promptgraph local setup` (builds llama-server once)",
)


def _our_llama_servers() -> list[int]:
    """Running llama-server processes whose parent is this test process."""
    import os
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        name, rest = fields[0].split("(", 1)[-1], fields[-1].split()
        if name == "llama-server" and int(rest[1]) == os.getpid() and rest[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def pytest_sessionfinish(session, exitstatus):
    """No test may leave a local model server running: that would fail the run."""
    left = _our_llama_servers()
    if left:
        print(f"\nllama-server processes left running by the tests: {left}")
        session.exitstatus = 1
