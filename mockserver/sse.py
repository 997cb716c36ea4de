"""Writing Server-Sent Events the way Mistral frames them, on absolute deadlines.

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
import json
from collections.abc import Iterable, Iterator
from typing import Any

from aiohttp import web

CONTENT_TYPE = "text/event-stream; charset=utf-8"
DONE = b"data: [DONE]\n\n"


def encode(event: Any) -> bytes:
    return b"data: " + json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


class DataLines:
    """Reads an SSE byte stream incrementally: bytes in, the complete events' ``data`` payloads out.

    Both the recorder and the shim read upstream streams with it, so an event split across network reads,
    ``\r\n`` line ends and multi-line ``data:`` fields are handled in one place.
    """

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[str]:
        self._pending += data.replace(b"\r\n", b"\n")
        found = []
        while b"\n\n" in self._pending:
            block, self._pending = self._pending.split(b"\n\n", 1)
            payload = _payload(block)
            if payload is not None:
                found.append(payload)
        return found

    def close(self) -> list[str]:
        """What is left when the stream ends: an event without its final blank line, if any."""
        block, self._pending = self._pending, b""
        payload = _payload(block) if block.strip() else None
        return [payload] if payload is not None else []

    @property
    def partial(self) -> bool:
        """Whether the stream stopped in the middle of an event."""
        return bool(self._pending.strip())


def _payload(block: bytes) -> str | None:
    lines = [line[5:].removeprefix(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines).decode("utf-8", "replace") if lines else None


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
    transport: asyncio.BaseTransport | None = None,
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
