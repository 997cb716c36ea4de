"""``/mistral/v1/{path}`` (and ``POST /v1/ocr``): Mistral's own API, with the key injected server-side.

Requests and answers pass unchanged (any method, the query string, Mistral's own error bodies, streams
byte for byte as they arrive), so OCR, files, moderation and every endpoint the shim does not translate
stay reachable, with the mistralai SDK too (``server_url=shim_url + "/mistral"``). Only the configured
upstream host is reached: the path is taken encoded and checked by ``Upstream.url``, and the client's
Host, Authorization, X-Api-Key and Cookie headers are never forwarded, nor its forwarding headers
(``Forwarded``, ``X-Forwarded-*``, ``X-Original-URL``...), which describe its own hop to the shim.
"""

import logging
import time

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from mistral_wire import jsonio
from shim.endpoints import common
from shim.relay import ClientWriter
from shim.state import Ledger
from shim.upstream import passthrough_headers

PREFIX = "/mistral"
log = logging.getLogger("shim")
# Left out as well as the hop-by-hop ones: the shim's session negotiates its own encoding, and already
# answered a client's ``Expect: 100-continue`` (forwarded, it would make the shim wait for Mistral's 100).
# A compressed body arrives already decompressed (aiohttp undoes ``Content-Encoding``), so it goes on plain.
# Forwarding and rewrite headers describe the client's hop to the shim, set by whoever the client is; passed
# on, they would let a client tell Mistral's edge which host or URL it is serving.
_NOT_FORWARDED = frozenset(
    "accept-encoding content-encoding expect origin referer forwarded via x-real-ip x-original-url "
    "x-rewrite-url x-forwarded-for x-forwarded-host x-forwarded-proto x-forwarded-port x-forwarded-server "
    "x-forwarded-prefix x-http-method-override".split()
)


def _upstream_path(request: web.Request) -> str:
    """The encoded upstream path: ``/mistral/v1/x%2Fy`` → ``/v1/x%2Fy`` (refused later), ``/v1/ocr`` as is."""
    raw = request.rel_url.raw_path
    return raw[len(PREFIX) :] if raw.startswith(PREFIX + "/") else raw


def _model(raw: bytes) -> str | None:
    if not raw.startswith(b"{"):
        return None
    try:
        model = jsonio.loads(raw).get("model")
    except (ValueError, AttributeError):
        return None
    return model if isinstance(model, str) else None


async def passthrough(request: web.Request) -> web.StreamResponse:
    entry = common.ledger(request)
    raw = await common.read_body(request)
    entry.model = _model(raw)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
    async with common.upstream(request).request(
        request.method,
        _upstream_path(request),
        client_bearer=entry.client_bearer,
        body=raw or None,
        headers=headers,
        query=request.rel_url.raw_query_string,
    ) as (upstream, waited):
        entry.upstream_status = upstream.status
        entry.upstream_seconds += waited
        sent = CIMultiDict(passthrough_headers(upstream.headers))
        for name, value in entry.headers().items():
            sent[name] = value
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=sent)
        writer = ClientWriter(request, response)
        await writer.prepare()
        await _copy(request, upstream, writer, entry)
        return response


async def _copy(
    request: web.Request, upstream: aiohttp.ClientResponse, writer: ClientWriter, entry: Ledger
) -> None:
    """Copy the body as it arrives. An upstream that fails mid-body cuts the client's connection too
    (no final chunk), so the client sees a broken answer, never a shorter one that looks complete."""
    while True:
        waiting = time.monotonic()
        try:
            chunk = await upstream.content.readany()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "pass-through %s: upstream failed mid-body (%s)", request.path, exc.__class__.__name__
            )
            if request.transport is not None:
                request.transport.abort()
            return
        entry.upstream_seconds += time.monotonic() - waiting
        if not chunk:
            break
        await writer.write(chunk)
    await writer.end()
