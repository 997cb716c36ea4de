"""A closed-loop load generator: ``concurrency`` workers, each sending its next request as soon as the last
one is answered, over one keep-alive aiohttp session per path.

Closed loop because that is how an application's worker pool calls a gateway, and because it never
overruns a slow path: at concurrency C the path always has exactly C requests in flight. Each request's
latency is taken from just before it is sent to the end of its body; a stream also records the arrival of
its first complete SSE event.
"""

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

HEADERS = {"Authorization": "Bearer bench", "Content-Type": "application/json"}


@dataclass
class Slice:
    """What one burst of load saw: one latency per answered request, in seconds."""

    latencies: list[float] = field(default_factory=list)
    first_event: list[float] = field(default_factory=list)
    errors: int = 0
    error_sample: str | None = None
    elapsed: float = 0.0

    @property
    def answered(self) -> int:
        return len(self.latencies)


class Failed(Exception):
    """A request that did not end in a complete, successful answer."""


def session() -> aiohttp.ClientSession:
    """A keep-alive session with no connection limit: the workers, not the pool, set the concurrency."""
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=300)
    return aiohttp.ClientSession(
        connector=connector, headers=HEADERS, timeout=aiohttp.ClientTimeout(total=120)
    )


async def one(
    client: aiohttp.ClientSession, url: str, payload: bytes, stream: bool
) -> tuple[float, float | None]:
    """Send one request; return its latency and, for a stream, when its first whole event arrived."""
    started = time.perf_counter()
    async with client.post(url, data=payload) as response:
        if response.status != 200:
            body = await response.read()
            raise Failed(f"HTTP {response.status}: {body[:300]!r}")
        if not stream:
            await response.read()
            return time.perf_counter() - started, None
        first: float | None = None
        seen = b""
        async for chunk in response.content.iter_any():
            seen += chunk
            if first is None:
                if b"\n\n" in seen:
                    first = time.perf_counter() - started
                else:
                    continue
            seen = seen[-64:]
        if first is None or b"[DONE]" not in seen:
            raise Failed(f"stream ended without [DONE]: {seen[-64:]!r}")
        return time.perf_counter() - started, first


async def run(
    client: aiohttp.ClientSession, url: str, payload: bytes, concurrency: int, seconds: float, stream: bool
) -> Slice:
    """Keep ``concurrency`` requests in flight for ``seconds``; the slice ends when the last one is answered.

    Requests started before the deadline are all waited for, so a slow path is measured over whole
    requests rather than cut off mid-answer.
    """
    out = Slice()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            try:
                latency, first = await one(client, url, payload, stream)
            except (Failed, aiohttp.ClientError, TimeoutError) as error:
                out.errors += 1
                out.error_sample = out.error_sample or f"{type(error).__name__}: {error}"
                await asyncio.sleep(0.01)  # a refusing path must not turn the worker into a busy loop
                continue
            out.latencies.append(latency)
            if first is not None:
                out.first_event.append(first)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    out.elapsed = time.perf_counter() - started
    return out
