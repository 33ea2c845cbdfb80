"""Every test runs hermetically: no key, no real cache directory, no profile on disk."""

import pytest


@pytest.fixture(autouse=True)
def hermetic_environment(tmp_path, monkeypatch):
    for variable in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CONFIG_DIR",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no credential profile, no real ~/.cache
    monkeypatch.setenv("PROMPTGRAPH_CACHE_DIR", str(tmp_path / "cache"))
