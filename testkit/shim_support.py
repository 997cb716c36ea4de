"""Helpers for the shim's server tests: a scripted raw upstream, and the shim as a real process.

``RawUpstream`` is an HTTP server written with bare asyncio streams, so a test controls every byte it sends
(a hang, an event cut in half, a stream with no ``[DONE]``, a reset) and sees every byte it receives (the
path, the Host and Authorization headers the shim sent, the moment the shim closes the connection).
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Received:
    """One request as the upstream read it off the socket."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> object:
        return json.loads(self.body)


Script = Callable[[Received, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def response_head(status: int = 200, content_type: str = "application/json", extra: str = "") -> bytes:
    """A response head with no length: the body ends when the connection closes."""
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nConnection: close\r\n{extra}\r\n"
    ).encode()


async def reply(
    writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str = "application/json"
) -> None:
    writer.write(
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()


def sse(event: object) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def chunk(text: str, finish: str | None = None) -> dict:
    """A Mistral chat stream chunk carrying ``text``."""
    return {
        "id": "0a1b2c3d4e5f",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": finish}],
    }


async def ok_json(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reply(writer, 200, b'{"ok": true}')


@dataclass
class RawUpstream:
    script: Script = ok_json
    received: list[Received] = field(default_factory=list)
    # Set when the shim closes a connection the script was waiting on (see ``wait_for_close``).
    closed: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "RawUpstream":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            server.close()
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.wait(pending))
            self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            received = Received(method, target, headers, body)
            self.received.append(received)
            await self.script(received, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the peer left, or the upstream is being stopped
        finally:
            writer.close()

    async def wait_for_close(self, reader: asyncio.StreamReader) -> None:
        """Block until the peer closes the connection, then set ``closed``."""
        while await reader.read(1024):
            pass
        self.closed.set()


async def wait_event(event: threading.Event, timeout: float = 10) -> bool:
    """Wait for a test-thread event from the upstream's loop without blocking that loop."""
    return await asyncio.get_running_loop().run_in_executor(None, event.wait, timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env(**changes: str | None) -> dict[str, str]:
    """The environment for a child server: this one without any Mistral or shim setting, plus ``changes``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MISTRAL_", "SHIM_")) and k not in ("MOCK_PORT", "SHIM_PORT")
    }
    env.update({k: v for k, v in changes.items() if v is not None})
    return env


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
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
    with served_process([*launcher, "serve", *args], tmp_path, "shim", env) as served:
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
