"""The mock's one renderer: a JSON answer, a refusal, or Server-Sent Events on absolute deadlines.

Every source (synthetic answers, replayed recordings, authored fixtures) answers through here, so a JSON
body, a refusal and a stream leave the mock the same way whichever source made them. (Record mode relays
the upstream's bytes as they arrive, and is the one exception.)

Mistral sends ``data: <compact JSON>\\n\\n`` events only, then ``data: [DONE]\\n\\n``. Each event is due at an
offset from the start of the stream (evenly spaced for synthetic streams, as recorded for replays);
sleeping until each absolute deadline (instead of sleeping a gap after each write) keeps timing error from
accumulating over long streams. Events already due are written in one go, which is what makes zero-delay
streams fast.

An event is never written before its deadline. The event loop's timers are only as fine as ``epoll``'s
whole milliseconds, so a plain sleep lands up to 1 ms late: good enough for synthetic pacing
(``--chunk-ms``, ``ttft_ms``). Replays ask for ``precise`` timing: the wait sleeps until about a
millisecond before the deadline, then yields to the loop (``sleep(0)``; other requests keep being served)
until the deadline has passed, so events leave within a few tens of microseconds of it unless the OS does
not run the process. That last millisecond costs CPU, which is why synthetic streams do not pay it.
"""

import asyncio
import json as std_json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from mistral_wire import jsonio
from mistral_wire import sse as wire_sse
from mistral_wire.contract.errors import JSON, MistralError, ValidationShape

CONTENT_TYPE = wire_sse.CONTENT_TYPE
DONE = wire_sse.DONE
encode = wire_sse.encode


@dataclass(frozen=True)
class Rendered:
    """A refusal (or any fixed answer) ready to send: status, headers, bytes. A value, safe to cache."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, error: MistralError, shape: ValidationShape = "envelope") -> "Rendered":
        headers = {**error.headers, "Content-Type": error.content_type}
        return cls(error.status, error.render(shape), headers)

    def response(self, extra: Mapping[str, str] | None = None) -> web.Response:
        return web.Response(status=self.status, body=self.body, headers=merged(extra or {}, self.headers))


def merged(*layers: Mapping[str, str]) -> CIMultiDict[str]:
    """Header layers, later ones winning whatever the case of a name (``content-type`` replaces
    ``Content-Type``: a recording keeps its headers lower-cased)."""
    out: CIMultiDict[str] = CIMultiDict()
    for layer in layers:
        out.update(layer)
    return out


def json(body: Any, headers: Mapping[str, str], status: int = 200) -> web.Response:
    """A JSON answer in Mistral's bytes (Python's compact JSON, raw UTF-8)."""
    return web.Response(
        status=status, body=jsonio.compact_bytes(body), headers=merged(headers, {"Content-Type": JSON})
    )


SERVICE_JSON = "application/json; charset=utf-8"
OCTET_STREAM = "application/octet-stream"


def service_json(body: Any, headers: Mapping[str, str], status: int = 200) -> web.Response:
    """A JSON answer of Mistral's files and batch services, which differ from the inference API's: Python's
    default separators (``", "``, ``": "``) and ``application/json; charset=utf-8`` (every files and batch
    answer of ruby_llm's live recordings, 2026-08)."""
    return web.Response(
        status=status,
        body=std_json.dumps(body).encode(),
        headers=merged(headers, {"Content-Type": SERVICE_JSON}),
    )


def raw(status: int, body: bytes, headers: Mapping[str, str]) -> web.Response:
    """An answer whose bytes are fixed already (a replayed body, byte for byte)."""
    return web.Response(status=status, body=body, headers=merged(headers))


async def stream(
    request: web.Request,
    events: Iterable[tuple[float, bytes]],
    headers: Mapping[str, str],
    *,
    status: int = 200,
    disconnect_after: int | None = None,
    start: float | None = None,
    precise: bool = False,
) -> web.StreamResponse:
    """Send ``(offset, bytes)`` events as an SSE answer, each when it is due (see ``send``)."""
    response = web.StreamResponse(status=status, headers=merged({"Content-Type": CONTENT_TYPE}, headers))
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        await send(
            response,
            events,
            disconnect_after=disconnect_after,
            transport=request.transport,
            start=start,
            precise=precise,
        )
    except Disconnected:
        return response
    await response.write_eof()
    return response


class Disconnected(Exception):
    """The stream was cut on purpose (``disconnect_after``); nothing more may be written."""


def evenly(
    events: Iterable[bytes], first_delay: float = 0.0, gap: float = 0.0
) -> Iterator[tuple[float, bytes]]:
    """Offsets for synthetic streams: the first event after ``first_delay``, then one every ``gap``."""
    for index, event in enumerate(events):
        yield first_delay + index * gap, event


# How long before a deadline the coarse sleep ends: epoll rounds a timeout up to the next millisecond.
COARSE_MARGIN = 0.001


async def until(deadline: float, loop: asyncio.AbstractEventLoop, precise: bool = False) -> None:
    """Return once ``loop.time() >= deadline``: within ~1 ms after it, or at once after it if ``precise``."""
    if not precise:
        while (remaining := deadline - loop.time()) > 0:
            await asyncio.sleep(remaining)
        return
    coarse = deadline - loop.time() - COARSE_MARGIN
    if coarse > 0:
        await asyncio.sleep(coarse)
    while loop.time() < deadline:
        await asyncio.sleep(0)


async def send(
    response: web.StreamResponse,
    events: Iterable[tuple[float, bytes]],
    *,
    disconnect_after: int | None = None,
    transport: asyncio.Transport | None = None,
    start: float | None = None,
    precise: bool = False,
) -> None:
    """Write each event when it is due: ``(offset in seconds from start, bytes)`` pairs, in order.

    ``start`` is a ``loop.time()``; by default now. Replays pass the moment the request arrived, as the
    recorded offsets count from the request, and ask for ``precise`` timing.
    """
    loop = asyncio.get_running_loop()
    start = loop.time() if start is None else start
    batch: list[bytes] = []
    for index, (offset, event) in enumerate(events):
        if disconnect_after is not None and index >= disconnect_after:
            if batch:
                await response.write(b"".join(batch))
            if transport is not None:
                transport.abort()
            raise Disconnected
        due = start + offset
        if loop.time() < due:
            if batch:
                await response.write(b"".join(batch))
                batch = []
            await until(due, loop, precise)
        batch.append(event)
    if batch:
        await response.write(b"".join(batch))
