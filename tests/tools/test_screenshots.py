"""tools/screenshots.py writes the three reports offline, and says so when it cannot screenshot them."""

import subprocess
import sys
from pathlib import Path

from tests.scenario import questions

ROOT = Path(__file__).resolve().parents[2]


def test_without_chromium_the_reports_are_written_and_the_screenshots_skipped_saying_so(tmp_path):
    data = tmp_path / "q.csv"
    data.write_text(
        "qid,question_text,target\n"
        + "".join(f"{e.id},{e.inputs['text']},{int(e.label == 'insincere')}\n" for e in questions(40))
    )

    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "screenshots.py"), "--data", str(data), "--out", str(tmp_path / "out")]
        + ["--chromium", ""],
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr
    assert "screenshots skipped: no chromium found" in done.stdout
    for name in ("tour", "classifier", "pipeline"):
        assert (tmp_path / "out" / name / "report" / "index.html").is_file()
    assert "every module's inputs and outputs" in (tmp_path / "out" / "pipeline" / "report" / "index.html").read_text()
