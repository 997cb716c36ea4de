"""The one pooled client session to Mistral: keys, timeouts, retries, streaming and cancellation.

It speaks no client's dialect: a transport failure (no connection, a timeout, a connection cut mid-answer)
is an ``UpstreamFailure``, which the translated routes answer as OpenAI's error and the pass-through as
Mistral's, each in its own module.

Every request goes to the configured upstream host only: the path is appended to the configured base URL
as percent-encoded segments, never resolved against it, and dot segments (``..``, also as ``..%2F``) are
refused, so nothing a client sends can point the shim at another host or outside the base path.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

import aiohttp
from yarl import URL

from mistral_wire.http import HOP_BY_HOP as _HOP_BY_HOP
from mistral_wire.http import base_url
from shim.settings import ShimSettings

DRAIN_SECONDS = 1.0
DRAIN_BYTES = 64 * 1024
RETRYABLE = frozenset({429, 503})
MAX_CACHED_URLS = 256  # pass-through paths are the client's: the cache must not grow with them
# A Retry-After longer than this (a monthly quota, say) is answered to the client instead of waited out.
MAX_RETRY_WAIT = 60.0
HOP_BY_HOP = _HOP_BY_HOP | {"authorization", "x-api-key", "cookie"}


class UpstreamFailure(Exception):
    """Mistral could not be used: ``unreachable`` (no connection), ``closed`` (it hung up before answering),
    ``timeout`` (no answer in time), ``broken`` (the connection failed mid-answer), ``bad_path`` (a path
    the shim refuses to send)."""

    def __init__(self, kind: str, detail: str, seconds: float | None = None) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.seconds = seconds


class Upstream:
    def __init__(self, config: ShimSettings) -> None:
        self.config = config
        self.base = URL(base_url(config.upstream))
        self._session: aiohttp.ClientSession | None = None
        # Checked and built URLs of query-less paths: the translated routes use a handful of them.
        self._urls: dict[str, URL] = {}

    async def start(self, app: object = None) -> None:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.config.connect_timeout, sock_read=self.config.timeout
        )
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
        self._session = aiohttp.ClientSession(timeout=timeout, connector=connector, auto_decompress=True)

    async def close(self, app: object = None) -> None:
        if self._session is not None:
            await self._session.close()

    def url(self, path: str, query: str = "") -> URL:
        """``path``, percent-encoded (e.g. ``/v1/files/abc``), on the upstream host and under its base path.

        Refuses (400) a segment that is or decodes to ``.`` or ``..``, or that hides a ``/`` or ``\\``.
        """
        if not query and path in self._urls:
            return self._urls[path]
        for part in path.split("/"):
            decoded = unquote(part)
            if decoded in (".", "..") or "/" in decoded or "\\" in decoded:
                raise UpstreamFailure(
                    "bad_path",
                    f"The path {path!r} is not allowed: it must not contain '.', '..' or encoded slashes.",
                )
        clean = "/" + path.lstrip("/")
        url = self.base.with_path(self.base.raw_path.rstrip("/") + clean, encoded=True)
        if query:
            # The query as the client encoded it: ``with_query`` would encode its ``%`` signs a second time.
            return URL(f"{url}?{query}", encoded=True)
        if len(self._urls) < MAX_CACHED_URLS:
            self._urls[path] = url
        return url

    def key(self, client_bearer: str | None) -> str | None:
        return self.config.mistral_api_key or client_bearer

    @asynccontextmanager
    async def request(
        self,
        method: str,
        path: str,
        *,
        client_bearer: str | None,
        body: bytes | AsyncIterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        query: str = "",
        stream: bool = False,
    ) -> AsyncIterator[tuple[aiohttp.ClientResponse, float]]:
        """Send one request (retrying 429/503 when configured); yield the response and upstream seconds.

        ``body`` is bytes, or an async iterable of bytes sent as they come (chunked): an upload relayed as the
        client sends it, a file translated line by line. A streamed body is sent once, never retried: it
        cannot be read a second time. An exception raised by the iterable aborts the request (Mistral never
        sees a complete body) and comes back as ``UpstreamFailure`` with that exception as its cause.

        Leaving the block early (a client that went away, a cancelled handler) closes the connection,
        which cancels the upstream request at once instead of reading it to the end.
        """
        assert self._session is not None, "Upstream.start() was not awaited"
        url = self.url(path, query)
        send_headers = {k: v for k, v in (headers or {}).items() if k.lower() not in HOP_BY_HOP}
        key = self.key(client_bearer)
        if key:
            send_headers["Authorization"] = f"Bearer {key}"
        if stream:
            send_headers["Accept"] = "text/event-stream"
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = await self._session.request(
                    method, url, data=body, headers=send_headers, allow_redirects=False
                )
            except aiohttp.ConnectionTimeoutError:
                seconds = self.config.connect_timeout
                raise UpstreamFailure("unreachable", f"no connection within {seconds:g} seconds") from None
            except TimeoutError:
                raise UpstreamFailure("timeout", "no answer", self.config.timeout) from None
            except aiohttp.ServerDisconnectedError:
                raise UpstreamFailure("closed", "ServerDisconnectedError") from None
            except aiohttp.ClientError as exc:
                if exc.__cause__ is not None and not isinstance(exc.__cause__, OSError):
                    # The streamed body's own failure (a refused line, a client that stopped sending).
                    raise UpstreamFailure("body", str(exc.__cause__)) from exc.__cause__
                raise UpstreamFailure("unreachable", f"{exc.__class__.__name__}: {exc}") from None
            waited = time.monotonic() - started
            replayable = body is None or isinstance(body, bytes)
            if response.status in RETRYABLE and attempt < self.config.retries and replayable:
                delay = _retry_delay(response.headers.get("Retry-After"), attempt)
                if delay is not None:
                    response.close()
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
            break
        try:
            yield response, waited
        except BaseException:
            # A client that left, a failed translation, a cancellation: drop the connection now rather than
            # read the rest of an answer nobody will get.
            response.close()
            raise
        await _drain(response)
        response.release()

    async def chunks(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        """The body as it arrives, chunk by chunk (a download relayed or translated without holding it);
        a timeout or a cut mid-body becomes the ``UpstreamFailure`` it is."""
        while True:
            try:
                chunk = await response.content.readany()
            except TimeoutError:
                raise UpstreamFailure("timeout", "no answer", self.config.timeout) from None
            except aiohttp.ClientError as exc:
                raise UpstreamFailure("broken", exc.__class__.__name__) from None
            if not chunk:
                return
            yield chunk

    async def read(self, response: aiohttp.ClientResponse) -> bytes:
        """The whole body; a timeout or a connection cut mid-body becomes the 504 or 502 it is."""
        try:
            return await response.read()
        except TimeoutError:
            raise UpstreamFailure("timeout", "no answer", self.config.timeout) from None
        except aiohttp.ClientError as exc:
            raise UpstreamFailure("broken", exc.__class__.__name__) from None


def _retry_delay(retry_after: str | None, attempt: int) -> float | None:
    """Seconds to wait before the next try: Retry-After when given (None if too long), else back-off."""
    # typeshed types int ** int as Any (a negative power is a float); here it is a float either way.
    backoff: float = min(8.0, 0.5 * 2**attempt)
    if not retry_after:
        return backoff
    try:
        seconds = max(0.0, float(retry_after))
    except ValueError:
        return backoff
    return seconds if seconds <= MAX_RETRY_WAIT else None


async def error_body(response: aiohttp.ClientResponse) -> bytes:
    """A failed answer's body, or nothing when even that cannot be read."""
    try:
        return await response.read()
    except (aiohttp.ClientError, TimeoutError):
        return b""


def passthrough_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Response headers worth passing back: not hop-by-hop, not about an encoding already undone."""
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read what is left after an answer's end (a stream's last empty chunk, just after ``[DONE]``).

    Releasing a response that is not at its end closes the connection: Mistral would see every stream's
    client hang up at the last byte, a recording mock would lose the answer, and the next request would
    pay for a new connection. What is left is normally a few bytes already on the way; an upstream that
    keeps sending after its end is cut after a bounded read.
    """
    if response.content.at_eof():
        return
    read = 0
    with contextlib.suppress(aiohttp.ClientError, TimeoutError, ConnectionResetError):
        async with asyncio.timeout(DRAIN_SECONDS):
            while read <= DRAIN_BYTES and (chunk := await response.content.readany()):
                read += len(chunk)
