"""THE fake upstream: a stand-in for api.mistral.ai on 127.0.0.1, the one every test that needs one uses.

An HTTP server written with bare asyncio streams, so it sees every byte the shim sends (the method, the
request target as sent, the headers, the body, the moment the shim closes the connection). It answers in
one of three ways:

* ``Upstream(script)``: the script controls every byte it sends back (a hang, an event cut in half, a
  stream with no ``[DONE]``, a TCP reset); the connection closes when the script returns. Without any
  answer, ``ok_json`` is the script.
* ``Upstream(answer=...)``: a ``Canned`` answer (``testkit.wire``), or a function of the request's JSON body
  returning one (awaitable or not).
* ``Upstream(forward_to=url)``: the request is relayed to that server (the mock) and its answer sent back
  unchanged (status, body, content type, ``retry-after`` and rate-limit headers).
* ``Upstream(handler=...)``: a function of the whole ``Received`` request (method, path, headers, raw
  body) returning a ``Canned`` answer: a scripted Mistral with several routes (``testkit.fake_mistral``).

Canned and forwarded answers keep the connection alive for the next request, as a real server does. In
every mode it records each request in ``received`` (``last`` is the JSON body of the last one), knows how
many connections are open right now (``open``, ``wait_idle``), and, for a script that waits for the shim to
hang up (``wait_for_close``), when each closed (``closed``, ``closed_at``).

Use it as a context manager (``with Upstream(script) as upstream: upstream.url``) or with ``start()``, which
returns the URL, and ``stop()``.
"""

import asyncio
import inspect
import json
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any

import aiohttp

from testkit.wire import HELLO, SSE_HEAD, Canned, chunk, sse

FORWARDED_HEADERS = ("content-type", "retry-after")
"""The headers of a forwarded answer sent back, besides every ``x-ratelimit-*``."""


@dataclass
class Received:
    """One request as the upstream read it off the socket."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    peer_port: int = 0

    @property
    def path(self) -> str:
        """The request target without its query."""
        return self.target.partition("?")[0]

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None when there is no body)."""
        return json.loads(self.body) if self.body else None


Script = Callable[[Received, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Answer = Canned | Callable[[Any], Canned | Awaitable[Canned]]
Handler = Callable[["Received"], Canned | Awaitable[Canned]]


async def reply(
    writer: asyncio.StreamWriter, status: int, body: bytes, content_type: str = "application/json"
) -> None:
    writer.write(
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def ok_json(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reply(writer, 200, b'{"ok": true}')


def reset(writer: asyncio.StreamWriter) -> None:
    """Close the connection with a TCP reset (RST) instead of an orderly FIN, as a crashed peer would."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def wait_event(event: threading.Event, timeout: float = 10) -> bool:
    """Wait for a test-thread event from the upstream's loop without blocking that loop."""
    return await asyncio.get_running_loop().run_in_executor(None, event.wait, timeout)


def frame(answer: Canned, keep_alive: bool) -> bytes:
    """``answer`` as the bytes of an HTTP/1.1 response."""
    try:
        reason = HTTPStatus(answer.status).phrase
    except ValueError:
        reason = "Unknown"
    headers = dict(answer.headers)
    if not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/octet-stream"
    if answer.chunked:
        headers["Transfer-Encoding"] = "chunked"
        one = f"{len(answer.body):x}\r\n".encode() + answer.body + b"\r\n" if answer.body else b""
        body = one + b"0\r\n\r\n"
    else:
        headers["Content-Length"] = str(len(answer.body))
        body = answer.body
    if not keep_alive:
        headers["Connection"] = "close"
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"HTTP/1.1 {answer.status} {reason}\r\n{head}\r\n".encode() + body


class Upstream:
    """The fake upstream; see the module's docstring."""

    def __init__(
        self,
        script: Script | None = None,
        *,
        answer: Answer | None = None,
        forward_to: str | None = None,
        handler: Handler | None = None,
    ) -> None:
        modes = [mode for mode in (script, answer, forward_to, handler) if mode is not None]
        assert len(modes) <= 1, "an Upstream runs a script, sends an answer, forwards or handles: one of them"
        self.script: Script | None = ok_json if not modes else script
        self.answer = answer
        self.forward_to = forward_to
        self.handler = handler
        self.received: list[Received] = []
        self.open = 0  # connections open right now
        self.closed = threading.Event()  # set when the shim closes a connection ``wait_for_close`` watched
        self.closed_at: list[float] = []  # when each of those closed (time.monotonic)
        self.port = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def last(self) -> Any:
        """The JSON body of the last request the shim sent."""
        return self.received[-1].json

    # --- running -----------------------------------------------------------------------------------------

    def start(self) -> str:
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
        return self.url

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> "Upstream":
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- watching connections ----------------------------------------------------------------------------

    async def wait_for_close(self, reader: asyncio.StreamReader) -> None:
        """Block until the peer closes the connection (or resets it), then note it in ``closed``."""
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

    # --- serving -----------------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.open += 1
        try:
            peer = writer.get_extra_info("peername")
            while True:
                received = await self._read_request(reader, peer[1] if peer else 0)
                self.received.append(received)
                if self.script is not None:
                    await self.script(received, reader, writer)
                    break
                keep_alive = received.headers.get("connection", "").lower() != "close"
                writer.write(frame(await self._answer(received), keep_alive))
                await writer.drain()
                if not keep_alive:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the peer left, or the upstream is being stopped
        finally:
            writer.close()
            with self._lock:
                self.open -= 1

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader, peer_port: int) -> Received:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            gathered = bytearray()  # not bytes +=: a 100 MB upload would be copied a thousand times
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                gathered += await reader.readexactly(size)
                await reader.readexactly(2)
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            body = bytes(gathered)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Received(method, target, headers, body, peer_port)

    async def _answer(self, received: Received) -> Canned:
        if self.forward_to is not None:
            return await self._forward(received)
        if self.handler is not None:
            handled = self.handler(received)
            if inspect.isawaitable(handled):
                handled = await handled
            assert isinstance(handled, Canned), f"an Upstream's handler must return a Canned, not {handled!r}"
            return handled
        answer = self.answer(received.json) if callable(self.answer) else self.answer
        if inspect.isawaitable(answer):
            answer = await answer
        assert isinstance(answer, Canned), f"an Upstream's answer must be a Canned, not {answer!r}"
        return answer

    async def _forward(self, received: Received) -> Canned:
        headers = {k: v for k, v in received.headers.items() if k in ("authorization", "content-type")}
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                received.method,
                f"{self.forward_to}{received.target}",
                data=received.body or None,
                headers=headers,
            ) as response,
        ):
            data = await response.read()
            kept = {
                k: v
                for k, v in response.headers.items()
                if k.lower() in FORWARDED_HEADERS or k.lower().startswith("x-ratelimit-")
            }
            return Canned(response.status, data, kept)


def leaves_early(upstream: Upstream, keep_sending: bool) -> Script:
    """One event, then either silence or an event every 20 ms, until the shim closes the connection."""

    async def script(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(SSE_HEAD + HELLO)
        await writer.drain()
        watcher = asyncio.ensure_future(upstream.wait_for_close(reader))
        for _ in range(500 if keep_sending else 0):  # bounded: 10 s at most
            if watcher.done():
                break
            writer.write(sse(chunk("...")))
            await asyncio.sleep(0.02)
        await watcher

    return script
