"""The README's five-minute tour runs as written, with scripted models standing in for Claude."""

import re
from pathlib import Path

import promptgraph as pg

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "qiqc_truncated.csv"


def tour_code() -> str:
    readme = (ROOT / "README.md").read_text()
    tour = readme[readme.index("## A five-minute tour") : readme.index("## Talking to a model")]
    return "\n".join(re.findall(r"```python\n(.*?)```", tour, re.DOTALL))


def test_the_tour_runs_as_written_with_scripted_models(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    import scripted_models

    def scripted(model, **options):
        return scripted_models.forward_lm() if "haiku" in model else scripted_models.optimizer_lm()

    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "qiqc_truncated.csv").symlink_to(DATA)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setattr(pg, "AnthropicLM", scripted)
    namespace: dict = {}
    exec(compile(tour_code(), "README tour", "exec"), namespace)  # noqa: S102  # our own README
    assert namespace["trained"].values() == namespace["result"].program.values()
    assert (tmp_path / "work" / "runs" / "tour" / "report" / "index.html").exists()
    assert namespace["result"].best.val.accuracy > namespace["result"].history[0].val.accuracy
