"""Helpers for the shim's hardening tests: an upstream that counts its open connections, resets, a shim
that cancels handlers as ``mistral-shim serve`` does, and a look at a process's descriptors and memory."""

import asyncio
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mockserver.serving import ServerThread
from shim.app import RUNNER_OPTIONS
from shim.app import create_app as create_shim
from shim.settings import ShimSettings
from testkit.shim_support import RawUpstream, Received

CHAT = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Say hello."}]}


@dataclass
class CountingUpstream(RawUpstream):
    """A ``RawUpstream`` that knows how many connections are open right now, and when each one closed.

    A connection stays open until its script returns, so a script that waits for the shim to hang up
    (``wait_for_close``) shows, by the count, whether the shim ever did.
    """

    open: int = 0
    closed_at: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.open += 1
        try:
            await super()._handle(reader, writer)
        finally:
            with self._lock:
                self.open -= 1

    async def wait_for_close(self, reader: asyncio.StreamReader) -> None:
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        self.closed_at.append(time.monotonic())
        self.closed.set()

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until no connection is open; False if some still are after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.open == 0


def reset(writer: asyncio.StreamWriter) -> None:
    """Close the connection with a TCP reset (RST) instead of an orderly FIN, as a crashed peer would."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@contextmanager
def keen_shim(upstream: str, **settings: object) -> Iterator[ServerThread]:
    """An in-process shim run with ``RUNNER_OPTIONS``, so its handlers are cancelled when a client leaves."""
    config = ShimSettings(upstream=upstream, **settings)  # type: ignore[arg-type]
    server = ServerThread(lambda: create_shim(config), runner_options=RUNNER_OPTIONS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def task_count(server: ServerThread) -> int:
    """The asyncio tasks alive on the server's loop (the one asking included)."""

    async def count() -> int:
        return len(asyncio.all_tasks())

    return server.run(count)


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def settle(read: Callable[[], int], target: int, timeout: float = 10) -> int:
    """Poll ``read()`` until it reaches ``target`` or less (cleanup runs after the answer); its last value."""
    deadline = time.monotonic() + timeout
    value = read()
    while value > target and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    return value


def open_stream(port: int, body: bytes, path: str = "/v1/chat/completions", key: str = "k") -> socket.socket:
    """A raw client connection that has sent one POST and not read anything yet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return sock


def read_until(sock: socket.socket, marker: bytes, limit: int = 1 << 20) -> bytes:
    """Read from ``sock`` until ``marker`` has arrived (or the peer closed)."""
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


__all__ = ["CHAT", "CountingUpstream", "Received"]
