"""Writing a streamed answer to the client, and relaying an upstream SSE stream event by event.

Nothing is buffered: every upstream event is translated and written before the next one is read. A stream
that fails upstream (a reset, a timeout, a cut inside an event, an end without ``[DONE]``) ends with an
OpenAI error event and no ``[DONE]``, so a client never mistakes a truncated answer for a complete one. A
client that goes away stops the relay at once (``ClientGone``); the caller then drops the upstream
connection.
"""

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from mistral_wire import jsonio, sse
from shim.exchange import IN_FLIGHT
from shim.translate.plan import CHAT_FRAMING, LifecycleTranslation, StreamFraming, StreamTranslation
from shim.translate.problem import OpenAIError, server_error

DONE = sse.DONE
LOG_BODY_LIMIT = 64 * 1024
log = logging.getLogger("shim")
_CLIENT_ERRORS = (ConnectionResetError, aiohttp.ClientConnectionResetError, RuntimeError)


class ClientGone(Exception):
    """The client closed its connection; nothing more can be sent. Carries the response already started."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__("client disconnected")
        self.response = response


class ClientWriter:
    """Writes an answer as it goes: a closed connection becomes ``ClientGone``; with ``keep_copy`` (for
    ``--log-bodies``) the first 64 KiB are kept in ``copy``."""

    def __init__(self, request: web.Request, response: web.StreamResponse, keep_copy: bool = False) -> None:
        self.request = request
        self.response = response
        self.copy: bytearray | None = bytearray() if keep_copy else None

    async def prepare(self) -> None:
        try:
            await self.response.prepare(self.request)
        except _CLIENT_ERRORS as exc:
            raise ClientGone(self.response) from exc

    async def write(self, data: bytes) -> None:
        if self.copy is not None and len(self.copy) < LOG_BODY_LIMIT:
            self.copy += data
        try:
            await self.response.write(data)
        except _CLIENT_ERRORS as exc:
            raise ClientGone(self.response) from exc

    async def end(self) -> None:
        try:
            await self.response.write_eof()
        except _CLIENT_ERRORS as exc:
            raise ClientGone(self.response) from exc
        exchange = self.request.get(IN_FLIGHT)
        if exchange is not None:
            exchange.delivered = self.response.status


class Relay:
    """One upstream stream relayed to one client through a stream translator.

    ``waited`` is the time spent waiting on Mistral between events (the shim's overhead excludes it).
    """

    def __init__(
        self,
        request: web.Request,
        upstream: aiohttp.ClientResponse,
        headers: Mapping[str, str],
        translator: StreamTranslation,
        request_id: str,
        keep_copy: bool = False,
        framing: StreamFraming = CHAT_FRAMING,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.upstream = upstream
        self.translator = translator
        self.lifecycle = translator if isinstance(translator, LifecycleTranslation) else None
        self.request_id = request_id
        self.framing = framing
        self.settle = settle
        response = web.StreamResponse(
            headers={**headers, "Content-Type": sse.CONTENT_TYPE, "Cache-Control": "no-cache"}
        )
        response.enable_chunked_encoding()
        self.sink = ClientWriter(request, response, keep_copy)
        self.waited = 0.0

    async def run(self) -> web.StreamResponse:
        """Relay until Mistral's ``[DONE]``, or end with an error event that says why not."""
        await self.sink.prepare()
        try:
            if self.lifecycle is not None:
                await self._write(self.lifecycle.start())
            if not await self._pump():
                raise server_error(
                    502, "The Mistral stream ended before it was complete.", "upstream_stream_truncated"
                )
        except ClientGone:
            raise
        except OpenAIError as error:
            await self._fail(error)
        except (aiohttp.ClientError, TimeoutError, ConnectionResetError) as exc:
            kind = "timed out" if isinstance(exc, TimeoutError) else f"failed ({exc.__class__.__name__})"
            await self._fail(server_error(502, f"The Mistral stream {kind}.", "upstream_stream_error"))
        except Exception:  # a translation bug must still end the stream visibly, not as a silent success
            log.exception("stream %s failed", self.request_id)
            await self._fail(server_error(500, "The shim failed while translating the stream."))
        with contextlib.suppress(ClientGone):
            await self.sink.end()
        return self.sink.response

    def _encode(self, event: dict[str, Any]) -> bytes:
        data = sse.encode_fast(event)
        kind = event.get("type")
        if self.framing.named and isinstance(kind, str):
            return b"event: " + kind.encode() + b"\n" + data
        return data

    async def _write(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            await self.sink.write(self._encode(event))

    async def _fail(self, error: OpenAIError) -> None:
        """The error as the stream's client reads one: chat's error event, or the translator's own."""
        if self.lifecycle is not None:
            await self._write(self.lifecycle.fail(error))
        else:
            await self.sink.write(sse.encode_fast(error.body()))

    async def _pump(self) -> bool:
        lines = sse.DataLines()
        while True:
            waiting = time.monotonic()
            chunk = await self.upstream.content.readany()
            self.waited += time.monotonic() - waiting
            if not chunk:
                break
            for payload in lines.feed(chunk):
                if await self._handle(payload):
                    return True
        if any([await self._handle(payload) for payload in lines.close()]):
            return True
        if getattr(self.translator, "ended", False):  # a ``SelfEnding`` stream that said its last event
            await self._end(marker=False)
            return True
        return False

    async def _end(self, marker: bool) -> None:
        """The translator's last events, after the answer is settled; ``[DONE]`` when Mistral sent one and
        the client's protocol ends with it too."""
        events = self.translator.finish()
        if self.settle is not None:
            await self.settle()
        await self._write(events)
        if marker and self.framing.done:
            await self.sink.write(DONE)

    async def _handle(self, payload: str) -> bool:
        """Write what one upstream event becomes; True once it was Mistral's ``[DONE]``."""
        if payload.strip() == sse.DONE_PAYLOAD:
            await self._end(marker=True)
            return True
        try:
            event = jsonio.loads(payload)
        except ValueError:
            raise server_error(
                502, "Mistral sent a stream event that is not JSON.", "upstream_bad_stream"
            ) from None
        if not isinstance(event, dict):
            raise server_error(
                502, "Mistral sent a stream event that is not an object.", "upstream_bad_stream"
            )
        await self._write(self.translator.feed(event))
        return False
