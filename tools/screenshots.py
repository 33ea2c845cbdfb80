"""Write the run reports of the tour, the CLI classifier and the premises -> classify pipeline, offline,
then screenshot each in headless Chromium at 1400 and 800 px wide and print the page heights.

    python tools/screenshots.py                      # reports and screenshots under runs/screenshots
    python tools/screenshots.py --data my.csv --out /tmp/shots

The models are scripted stand-ins (examples/scripted_models.py), served over the loopback Messages
API for the CLI runs, so nothing leaves the machine and the numbers mean nothing. The screenshots
need Debian's `chromium` package (or --chromium PATH); without it the reports are still written and
the screenshots are skipped, saying so. Heights are of the page as it opens: every <details> closed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import scripted_models  # noqa: E402  # the examples' scripted stand-ins for Claude

from promptgraph import Request  # noqa: E402
from promptgraph.cli import main as promptgraph  # noqa: E402
from promptgraph.testing import MessagesServer  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "qiqc_truncated.csv"
WIDTHS = (1400, 800)
COLUMNS = ["--text-column", "question_text", "--label-column", "target", "--id-column", "qid"]
# Written into a copy of the page only: the report itself carries no script.
PROBE = (
    "<script>addEventListener('load', () => document.body.setAttribute("
    "'data-page-height', document.documentElement.scrollHeight))</script>"
)


def classifier_reply(request: Request) -> str:
    if request.tag == "critic":
        return scripted_models.critic(request)
    if request.tag == "rewrite":
        return scripted_models.rewriter(request)
    return scripted_models.forward(request)


def pipeline_reply(request: Request) -> str:
    """premises names the cue words its own prompt lists; classify calls a question insincere when it names any."""
    if request.tag in ("critic", "rewrite"):
        return classifier_reply(request)
    content = request.messages[-1].content
    if "<premises>" in content:  # the first module, asked for its two tagged outputs
        question = content.split("\n\n")[0].lower()
        hits = [word for word in scripted_models.cue_words(request.system) if word in question]
        premises = f"the asker takes for granted: {', '.join(hits)}" if hits else "none worth noting"
        return f"<premises>{premises}</premises><intent>to ask a question</intent>"
    insincere = "takes for granted:" in content
    return f"Label: <label>{'insincere' if insincere else 'sincere'}</label>"


def tour(data: Path, out: Path) -> Path:
    """The README's tour, as examples/insincere.py runs it with --scripted (the Python API: no command.json)."""
    import insincere

    with contextlib.redirect_stdout(io.StringIO()):
        insincere.main(["--scripted", "--data", str(data), "--out", str(out)])
    return out / "report" / "index.html"


def cli_run(data: Path, out: Path, respond, *extra: str) -> Path:
    if (out / "command.json").exists():  # this script's own earlier run: compile would not start afresh over it
        shutil.rmtree(out)
    with MessagesServer(respond) as server, contextlib.redirect_stdout(io.StringIO()):
        code = promptgraph(
            ["compile", str(data), *COLUMNS, "--labels", "0=sincere,1=insincere", "--base-url", server.base_url]
            + ["--no-cache", "--out", str(out), *extra]
        )
    if code != 0:
        raise SystemExit(f"promptgraph compile for {out} exited with {code}")
    return out / "report" / "index.html"


def page_height(chromium: str, page: Path, width: int) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        probe = Path(scratch) / "probe.html"
        probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
        dom = _chromium(chromium, f"--window-size={width},900", "--dump-dom", probe.as_uri())
    found = re.search(r'data-page-height="(\d+)"', dom)
    if not found:
        raise SystemExit(f"chromium did not report the height of {page}")
    return int(found.group(1))


def screenshot(chromium: str, page: Path, width: int, height: int, target: Path) -> None:
    _chromium(chromium, f"--window-size={width},{height}", f"--screenshot={target}", page.as_uri())


def _chromium(chromium: str, *arguments: str) -> str:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"a QIQC-style CSV (default: {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    arguments = parser.parse_args(argv)
    if not arguments.data.is_file():
        print(f"no data at {arguments.data}: pass --data with a CSV of question_text, target, qid", file=sys.stderr)
        return 2
    out = arguments.out
    pages = {
        "tour": tour(arguments.data, out / "tour"),
        "classifier": cli_run(arguments.data, out / "classifier", classifier_reply),
        "pipeline": cli_run(
            arguments.data,
            out / "pipeline",
            pipeline_reply,
            "--program",
            f"{ROOT / 'examples' / 'insincere_pipeline.py'}:build",
            "--samples-per-label",
            "20",
        ),  # fmt: skip
    }
    for name, page in pages.items():
        print(f"{name}: {page}")
    if not arguments.chromium:
        print("screenshots skipped: no chromium found (apt-get install chromium, or pass --chromium PATH)")
        return 0
    print(f"\n{'report':<12}{'width':>7}{'page height':>13}  screenshot")
    for name, page in pages.items():
        for width in WIDTHS:
            height = page_height(arguments.chromium, page, width)
            target = out / f"{name}-{width}.png"
            screenshot(arguments.chromium, page, width, min(height, 16_000), target)
            print(f"{name:<12}{width:>7}{height:>10} px  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
