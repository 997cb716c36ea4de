"""Relaying an upstream SSE stream to the client, translating each event as it arrives.

Nothing is buffered: every upstream event is translated and written before the next one is read. A stream
that fails upstream (a reset, a timeout, a cut inside an event, an end without ``[DONE]``) ends with an
OpenAI error event and no ``[DONE]``, so a client never mistakes a truncated answer for a complete one. A
client that goes away stops the relay at once; the caller then drops the upstream connection.
"""

import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from mockserver.sse import DataLines
from shim.translate.problem import OpenAIError

CONTENT_TYPE = "text/event-stream; charset=utf-8"
DONE = b"data: [DONE]\n\n"


def error_event(error: OpenAIError) -> dict[str, Any]:
    """OpenAI's in-stream error payload: the openai SDK raises an APIError when it reads one."""
    return error.body()


class ClientGone(Exception):
    """The client closed its connection; nothing more can be sent."""


def _encode(event: Any) -> bytes:
    return b"data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


async def _write(response: web.StreamResponse, data: bytes) -> None:
    try:
        await response.write(data)
    except (ConnectionResetError, aiohttp.ClientConnectionResetError, RuntimeError) as exc:
        raise ClientGone from exc


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
    try:
        await response.prepare(request)
    except (ConnectionResetError, aiohttp.ClientConnectionResetError) as exc:
        raise ClientGone from exc
    lines = DataLines()
    done = False

    async def handle(payload: str) -> bool:
        if payload.strip() == "[DONE]":
            for event in finish():
                await _write(response, _encode(event))
            await _write(response, DONE)
            return True
        try:
            event = json.loads(payload)
        except ValueError:
            raise OpenAIError(
                502,
                "Mistral sent a stream event that is not JSON.",
                type="server_error",
                code="upstream_bad_stream",
            ) from None
        for translated in feed(event):
            await _write(response, _encode(translated))
        return False

    try:
        async for chunk in upstream.content.iter_any():
            for payload in lines.feed(chunk):
                if await handle(payload):
                    done = True
                    break
            if done:
                break
        if not done:
            for payload in lines.close():
                if await handle(payload):
                    done = True
        if not done:
            raise OpenAIError(
                502,
                "The Mistral stream ended before it was complete.",
                type="server_error",
                code="upstream_stream_truncated",
            )
    except ClientGone:
        raise
    except OpenAIError as error:
        await _write(response, _encode(error_event(error)))
    except (aiohttp.ClientError, TimeoutError, ConnectionResetError) as exc:
        error = OpenAIError(
            502,
            f"The Mistral stream failed: {exc.__class__.__name__}.",
            type="server_error",
            code="upstream_stream_error",
        )
        await _write(response, _encode(error_event(error)))
    with contextlib.suppress(ConnectionResetError, aiohttp.ClientConnectionResetError):
        await response.write_eof()
    return response
