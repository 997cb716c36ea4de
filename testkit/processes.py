"""Both servers as real processes, as a user starts them: on a free port, with a clean environment.

``shim_process`` and ``mock_process`` run the ``serve`` commands with their output in a file, until
``/health`` answers; ``run_cli`` runs ``mistral-shim`` to completion, for the invocations that must refuse to
start. ``child_env`` is this environment without any Mistral or shim setting, so a developer's own key or
settings never leak into a test.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from testkit.paths import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env(**changes: str | None) -> dict[str, str]:
    """The environment for a child server: this one without any Mistral or shim setting, plus ``changes``.

    This checkout comes first on the import path: a console script (``mistral-shim``) or a script run by its
    path imports the installed packages otherwise, which an editable install may take from another checkout.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MISTRAL_", "SHIM_")) and k not in ("MOCK_PORT", "SHIM_PORT")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with status {process.returncode}")
        try:
            # A generous timeout: a probe that gives up on a busy machine still leaves a /health line in the
            # server's log, and the next probe another.
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not become healthy within {timeout} s")


@dataclass
class Served:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGINT, as Ctrl-C would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


@contextmanager
def shim_process(
    args: Sequence[str], tmp_path: Path, env: dict[str, str] | None = None, module: bool = False
) -> Iterator[Served]:
    """``mistral-shim serve ARGS`` (or ``python -m shim serve ARGS``) on a free port, output to a file."""
    launcher = (
        [sys.executable, "-m", "shim"] if module else [str(Path(sys.executable).parent / "mistral-shim")]
    )
    # The shim's own files (its default Responses store) go under the test's directory, never the home one.
    env = dict(child_env() if env is None else env)
    if "--data-dir" not in args:
        env.setdefault("SHIM_DATA_DIR", str(tmp_path / "shim-data"))
    with served_process([*launcher, "serve", *args], tmp_path, "shim", env) as served:
        yield served


@contextmanager
def mock_process(
    args: Sequence[str], tmp_path: Path, env: dict[str, str] | None = None, log_level: str = "INFO"
) -> Iterator[Served]:
    """``python -m mockserver serve ARGS`` on a free port; stdout and stderr go to a file (``.output()``)."""
    command = [sys.executable, "-m", "mockserver", "serve", "--log-level", log_level, *args]
    with served_process(command, tmp_path, "mock", env) as served:
        yield served


@contextmanager
def served_process(
    command: Sequence[str], tmp_path: Path, name: str, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """``COMMAND --port <free port>`` as its own process, output to a file, until ``/health`` answers."""
    port = free_port()
    log = tmp_path / f"{name}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=child_env() if env is None else env,
            cwd=ROOT,
        )
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_healthy(served.url, process)
        yield served
    finally:
        served.stop()


def run_cli(
    args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess:
    """``mistral-shim ARGS`` to completion (for the ones that must refuse to start)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "mistral-shim"), *args],
        capture_output=True,
        text=True,
        env=child_env() if env is None else env,
        timeout=timeout,
        cwd=ROOT,
    )


def run_mock_cli(
    args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess:
    """``python -m mockserver ARGS`` to completion (servers that must refuse to start, and import-vcr)."""
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *args],
        capture_output=True,
        text=True,
        env=child_env() if env is None else env,
        timeout=timeout,
        cwd=ROOT,
    )
