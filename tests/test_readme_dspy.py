"""The README's "Coming from DSPy" table names only what promptgraph has."""

import re
from pathlib import Path

import promptgraph as pg

ROOT = Path(__file__).resolve().parent.parent


def test_every_promptgraph_name_in_the_dspy_table_exists():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Coming from DSPy") : readme.index("## Talking to a model")]
    ours = [line.rsplit("|", 2)[1] for line in table.splitlines() if line.startswith("| ")]
    names = {name for cell in ours for name in re.findall(r"\bpg\.(\w+)", cell)}
    assert {"Generate", "ParetoSearch", "evaluate", "Example"} <= names
    assert [name for name in sorted(names) if not hasattr(pg, name)] == []
