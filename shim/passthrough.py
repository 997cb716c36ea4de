"""``/mistral/v1/{path}`` (and ``POST /v1/ocr``): Mistral's own API, with the key injected server-side.

Requests and answers pass unchanged (any method, the query string, Mistral's own error bodies, streams
byte for byte as they arrive), so OCR, files, moderation and every endpoint the shim does not translate
stay reachable, with the mistralai SDK too (``server_url=shim_url + "/mistral"``). Only the configured
upstream host is reached: the path is taken encoded and checked by ``Upstream.url``, and the client's
Host, Authorization, X-Api-Key and Cookie headers are never forwarded, nor its forwarding headers
(``Forwarded``, ``X-Forwarded-*``, ``X-Original-URL``...), which describe its own hop to the shim.

Failures answer in Mistral's shapes, as a client of Mistral's API expects: Mistral's own refusals pass
unchanged, the shim's (a refused path, a body over the limit) are Mistral's error envelope, and an
upstream that cannot be reached or times out gets the gateway's 502 or 504 body.
"""

import logging
import time

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from mistral_wire import jsonio
from mistral_wire.contract.errors import gateway_error
from shim import answers, body
from shim.exchange import EXCHANGE, Exchange, begin
from shim.keys import CREDENTIAL, SETTINGS, UPSTREAM
from shim.relay import ClientGone, ClientWriter
from shim.translate.problem import OpenAIError
from shim.upstream import UpstreamFailure, passthrough_headers

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
    """The encoded upstream path: ``/mistral/v1/x%2Fy`` → ``/v1/x%2Fy`` (refused later), ``/v1/ocr`` as is,
    ``/ocr`` (the route without ``/v1``) as ``/v1/ocr``."""
    raw = request.rel_url.raw_path
    if raw.startswith(PREFIX + "/"):
        return raw[len(PREFIX) :]
    return raw if raw.startswith("/v1/") else "/v1" + raw


def _model(raw: bytes) -> str | None:
    if not raw.startswith(b"{"):
        return None
    try:
        model = jsonio.loads(raw).get("model")
    except (ValueError, AttributeError):
        return None
    return model if isinstance(model, str) else None


async def passthrough(request: web.Request) -> web.StreamResponse:
    exchange = begin(request)
    try:
        response = await _forward(request, exchange)
    except OpenAIError as error:
        response = answers.error_response(error, "mistral")
    except UpstreamFailure as failure:
        response = _failure(failure, exchange)
    except ClientGone as gone:
        response = gone.response
        exchange.client_gone = True
    response[EXCHANGE] = exchange
    return response


def _failure(failure: UpstreamFailure, exchange: Exchange) -> web.Response:
    """The gateway's answer when Mistral cannot be used (a refused path is the client's own 400)."""
    if failure.kind == "bad_path":
        return answers.error_response(OpenAIError(400, failure.detail, code="invalid_path"), "mistral")
    error = gateway_error(failure.kind == "timeout", exchange.request_id)
    return web.Response(
        status=error.status, body=error.render(), headers={"Content-Type": error.content_type}
    )


async def _forward(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    limits = body.Limits(
        settings.max_body_bytes, settings.max_body_mb, settings.client_timeout, settings.max_json_depth
    )
    raw = await body.read(request, limits)
    if settings.log_bodies and raw:
        exchange.request_body = raw
    exchange.model = _model(raw)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
    started = time.monotonic()
    try:
        return await _relay(request, raw, headers, exchange)
    except UpstreamFailure:
        exchange.upstream_seconds = time.monotonic() - started
        raise


async def _relay(
    request: web.Request, raw: bytes, headers: dict[str, str], exchange: Exchange
) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    async with request.app[UPSTREAM].request(
        request.method,
        _upstream_path(request),
        client_bearer=request[CREDENTIAL],
        body=raw or None,
        headers=headers,
        query=request.rel_url.raw_query_string,
    ) as (upstream, waited):
        exchange.upstream_status = upstream.status
        exchange.upstream_seconds += waited
        sent = CIMultiDict(passthrough_headers(upstream.headers))
        for name, value in exchange.headers().items():
            sent[name] = value
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers=sent)
        writer = ClientWriter(request, response, settings.log_bodies)
        await writer.prepare()
        try:
            await _copy(request, upstream, writer, exchange)
        finally:
            exchange.response_body = writer.copy
        return response


async def _copy(
    request: web.Request, upstream: aiohttp.ClientResponse, writer: ClientWriter, exchange: Exchange
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
        exchange.upstream_seconds += time.monotonic() - waiting
        if not chunk:
            break
        await writer.write(chunk)
    await writer.end()
