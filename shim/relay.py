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

from mockserver.sse import DataLines
from shim import jsonio
from shim.accesslog import LOG_BODY_LIMIT
from shim.state import CONFIG, LEDGER
from shim.translate.problem import OpenAIError

CONTENT_TYPE = "text/event-stream; charset=utf-8"
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


class _Sink:
    """Writes to the client, turning a closed connection into ``ClientGone``; keeps a copy for the log."""

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self.request = request
        self.response = response
        self.copy: bytearray | None = bytearray() if request.app[CONFIG].log_bodies else None

    async def prepare(self) -> None:
        try:
            await self.response.prepare(self.request)
        except _CLIENT_ERRORS as exc:
            raise ClientGone(self.response) from exc

    async def write(self, data: bytes) -> None:
        if self.copy is not None and len(self.copy) < LOG_BODY_LIMIT:
            self.copy += data
            self.request[LEDGER].response_body = bytes(self.copy)
        try:
            await self.response.write(data)
        except _CLIENT_ERRORS as exc:
            raise ClientGone(self.response) from exc


def stream_error(code: str, message: str) -> OpenAIError:
    return OpenAIError(502, message, type="server_error", code=code)


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
    sink = _Sink(request, response)
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
            raise stream_error(
                "upstream_bad_stream", "Mistral sent a stream event that is not JSON."
            ) from None
        if not isinstance(event, dict):
            raise stream_error("upstream_bad_stream", "Mistral sent a stream event that is not an object.")
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
            raise stream_error(
                "upstream_stream_truncated", "The Mistral stream ended before it was complete."
            )
    except ClientGone:
        raise
    except OpenAIError as error:
        await sink.write(_encode(error.body()))
    except (aiohttp.ClientError, TimeoutError, ConnectionResetError) as exc:
        kind = "timed out" if isinstance(exc, TimeoutError) else f"failed ({exc.__class__.__name__})"
        await sink.write(_encode(stream_error("upstream_stream_error", f"The Mistral stream {kind}.").body()))
    except Exception:  # a translation bug must still end the stream visibly, not as a silent success
        log.exception("stream %s failed", request[LEDGER].request_id)
        failed = OpenAIError(500, "The shim failed while translating the stream.", type="server_error")
        await sink.write(_encode(failed.body()))
    with contextlib.suppress(*_CLIENT_ERRORS):
        await response.write_eof()
    return response
