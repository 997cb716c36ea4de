"""The one pooled client session to Mistral: keys, timeouts, retries, streaming and cancellation.

Every request goes to the configured upstream host only; the path is appended to it, never resolved
against it, so nothing a client sends can point the shim elsewhere.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from yarl import URL

from shim.config import ShimConfig
from shim.translate import errors
from shim.translate.problem import OpenAIError

RETRYABLE = frozenset({429, 503})
MAX_RETRY_WAIT = 60.0
HOP_BY_HOP = frozenset(
    "connection keep-alive proxy-authenticate proxy-authorization te trailers transfer-encoding upgrade host "
    "content-length authorization x-api-key cookie".split()
)


class Upstream:
    def __init__(self, config: ShimConfig) -> None:
        self.config = config
        self.base = URL(config.upstream)
        self._session: aiohttp.ClientSession | None = None

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
        """``path`` (e.g. ``/v1/chat/completions``) on the upstream host, whatever the path holds."""
        clean = "/" + path.lstrip("/")
        url = self.base.with_path(self.base.path.rstrip("/") + clean, encoded=False)
        return url.with_query(query) if query else url

    def key(self, client_bearer: str | None) -> str | None:
        return self.config.mistral_api_key or client_bearer

    @asynccontextmanager
    async def request(
        self,
        method: str,
        path: str,
        *,
        client_bearer: str | None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: str = "",
        stream: bool = False,
    ) -> AsyncIterator[tuple[aiohttp.ClientResponse, float]]:
        """Send one request (retrying 429/503 when configured); yield the response and upstream seconds.

        Leaving the block early (a client that went away) closes the connection, which cancels the
        upstream request at once instead of reading it to the end.
        """
        assert self._session is not None, "Upstream.start() was not awaited"
        send_headers = {k: v for k, v in (headers or {}).items() if k.lower() not in HOP_BY_HOP}
        key = self.key(client_bearer)
        if key:
            send_headers["Authorization"] = f"Bearer {key}"
        if stream:
            send_headers["Accept"] = "text/event-stream"
        url = self.url(path, query)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = await self._session.request(method, url, data=body, headers=send_headers)
            except TimeoutError:
                raise errors.upstream_timeout(self.config.timeout) from None
            except aiohttp.ClientError as exc:
                raise errors.upstream_unreachable(f"{exc.__class__.__name__}: {exc}") from None
            waited = time.monotonic() - started
            if response.status in RETRYABLE and attempt < self.config.retries:
                delay = _retry_delay(response.headers.get("Retry-After"), attempt)
                response.release()
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
        response.release()


def _retry_delay(retry_after: str | None, attempt: int) -> float:
    try:
        return (
            min(MAX_RETRY_WAIT, max(0.0, float(retry_after))) if retry_after else min(8.0, 0.5 * 2**attempt)
        )
    except ValueError:
        return min(8.0, 0.5 * 2**attempt)


async def error_from(response: aiohttp.ClientResponse) -> OpenAIError:
    """Read a failed upstream answer and turn it into the OpenAI error the client gets."""
    try:
        body = await response.read()
    except (aiohttp.ClientError, TimeoutError):
        body = b""
    return errors.from_mistral(response.status, body, response.headers)


def passthrough_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Response headers worth passing back: not hop-by-hop, not about an encoding already undone."""
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
