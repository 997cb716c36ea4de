"""Relaying an upstream SSE stream to the client, translating each event as it arrives.

Nothing is buffered: every upstream event is translated and written before the next one is read. A stream
that fails upstream (a reset, a timeout, a cut inside an event, an end without ``[DONE]``) ends with an
OpenAI error event and no ``[DONE]``, so a client never mistakes a truncated answer for a complete one. A
client that goes away stops the relay at once; the caller then drops the upstream connection.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from mistral_wire import jsonio
from mistral_wire.sse import DataLines
from shim.accesslog import LOG_BODY_LIMIT
from shim.state import CONFIG, LEDGER
from shim.translate.problem import OpenAIError, server_error

MEDIA_TYPE = "text/event-stream"
CONTENT_TYPE = f"{MEDIA_TYPE}; charset=utf-8"
DONE = b"data: [DONE]\n\n"
log = logging.getLogger("shim")
_CLIENT_ERRORS = (ConnectionResetError, aiohttp.ClientConnectionResetError, RuntimeError)


class ClientGone(Exception):
    """The client closed its connection; nothing more can be sent. Carries the response already started."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__("client disconnected")
        self.response = response


def _encode(event: Any) -> bytes:
    return b"data: " + jsonio.dumps(event) + b"\n\n"


class ClientWriter:
    """Writes a streamed answer as it goes: a closed connection becomes ``ClientGone``, and with
    ``--log-bodies`` the first 64 KiB are kept in the ledger for the access log."""

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self.request = request
        self.response = response
        self.copy: bytearray | None = None
        if request.app[CONFIG].log_bodies:
            self.copy = request[LEDGER].response_body = bytearray()

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


async def relay(
    request: web.Request,
    upstream: aiohttp.ClientResponse,
    headers: Mapping[str, str],
    feed: Callable[[dict[str, Any]], list[dict[str, Any]]],
    finish: Callable[[], list[dict[str, Any]]],
) -> web.StreamResponse:
    """Answer ``request`` with ``upstream``'s SSE events, each passed through ``feed`` as it arrives.

    ``finish`` gives the events that follow Mistral's ``[DONE]`` (OpenAI's usage chunk), before OpenAI's own.
    """
    response = web.StreamResponse(
        headers={**headers, "Content-Type": CONTENT_TYPE, "Cache-Control": "no-cache"}
    )
    response.enable_chunked_encoding()
    sink = ClientWriter(request, response)
    await sink.prepare()
    lines = DataLines()

    async def handle(payload: str) -> bool:
        """Write what one upstream event becomes; True once it was Mistral's ``[DONE]``."""
        if payload.strip() == "[DONE]":
            for event in finish():
                await sink.write(_encode(event))
            await sink.write(DONE)
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
        for translated in feed(event):
            await sink.write(_encode(translated))
        return False

    entry = request[LEDGER]

    async def pump() -> bool:
        while True:
            waiting = time.monotonic()
            chunk = await upstream.content.readany()
            entry.upstream_seconds += time.monotonic() - waiting
            if not chunk:
                break
            for payload in lines.feed(chunk):
                if await handle(payload):
                    return True
        return any([await handle(payload) for payload in lines.close()])

    try:
        if not await pump():
            raise server_error(
                502, "The Mistral stream ended before it was complete.", "upstream_stream_truncated"
            )
    except ClientGone:
        raise
    except OpenAIError as error:
        await sink.write(_encode(error.body()))
    except (aiohttp.ClientError, TimeoutError, ConnectionResetError) as exc:
        kind = "timed out" if isinstance(exc, TimeoutError) else f"failed ({exc.__class__.__name__})"
        failed = server_error(502, f"The Mistral stream {kind}.", "upstream_stream_error")
        await sink.write(_encode(failed.body()))
    except Exception:  # a translation bug must still end the stream visibly, not as a silent success
        log.exception("stream %s failed", request[LEDGER].request_id)
        failed = server_error(500, "The shim failed while translating the stream.")
        await sink.write(_encode(failed.body()))
    with contextlib.suppress(ClientGone):
        await sink.end()
    return response
