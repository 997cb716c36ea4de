"""``/mistral/v1/{path}`` (and ``POST /v1/ocr``): Mistral's own API, with the key injected server-side.

Requests and answers pass unchanged, streams included, so OCR, files, moderation and every endpoint the
shim does not translate stay reachable through it, on the configured upstream host only.
"""

import time

import aiohttp
from aiohttp import web

from shim.endpoints import common
from shim.relay import ClientGone
from shim.upstream import passthrough_headers


async def passthrough(request: web.Request) -> web.StreamResponse:
    entry = common.ledger(request)
    path = "/v1/" + request.match_info.get("path", "ocr")
    raw = await request.read()
    started = time.monotonic()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in ("accept-encoding",)}
    async with common.upstream(request).request(
        request.method,
        path,
        client_bearer=entry.client_bearer,
        body=raw or None,
        headers=headers,
        query=request.rel_url.raw_query_string,
    ) as (upstream, waited):
        entry.upstream_status = upstream.status
        entry.upstream_seconds += waited
        response = web.StreamResponse(
            status=upstream.status,
            headers={**passthrough_headers(upstream.headers), **common.headers(request)},
        )
        try:
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
        except (ConnectionResetError, aiohttp.ClientConnectionResetError) as exc:
            raise ClientGone from exc
        entry.upstream_seconds = time.monotonic() - started
        return response
