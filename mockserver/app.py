"""The mock's HTTP surface: routes, auth, body limits, fault injection, rate limits and sending.

What to answer is decided in ``endpoints``; this module decides whether to answer at all (route, auth,
faults, rate limits), and how (JSON or SSE, headers, delays).
"""

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from aiohttp import web

from mockserver import faults, ids, sse
from mockserver.config import MockConfig
from mockserver.contract import catalogue
from mockserver.contract.errors import (
    JSON,
    MistralError,
    body_too_large,
    dumps,
    envelope,
    method_not_allowed,
    no_route,
    rate_limited,
    status_error,
    unauthorized,
)
from mockserver.endpoints import POST_ROUTES, Outcome
from mockserver.ratelimit import RateLimiter
from mockserver.synthetic import chat as chat_synth

log = logging.getLogger("mockserver")

CONFIG = web.AppKey("config", MockConfig)
LIMITER = web.AppKey("limiter", RateLimiter)
CACHE = web.AppKey("cache", OrderedDict)
SERVICE = web.AppKey("recording_service", object)
REQUEST_ID = web.RequestKey("request_id", str)
CORRELATION_ID = web.RequestKey("correlation_id", str)
API_KEY = web.RequestKey("api_key", str)

CACHE_SIZE = 2048
CACHE_MAX_BODY = 256 * 1024
PUBLIC_PATHS = frozenset({"/health"})


def _key(request: web.Request) -> str:
    return request.get(API_KEY, "")


def _base_headers(request: web.Request) -> dict[str, str]:
    correlation = request[CORRELATION_ID]
    return {"mistral-correlation-id": correlation, "x-kong-request-id": correlation}


def _authenticate(request: web.Request, config: MockConfig) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or (config.api_keys and key not in config.api_keys):
        raise unauthorized(request[REQUEST_ID])
    return key


def _error_response(request: web.Request, error: MistralError) -> web.Response:
    config = request.app[CONFIG]
    headers = {**_base_headers(request), **error.headers, "Content-Type": error.content_type}
    if request.get(API_KEY) and error.status != 401:
        headers.update(request.app[LIMITER].headers(_key(request)))
    return web.Response(status=error.status, body=error.render(config.validation_shape), headers=headers)


@web.middleware
async def edges(request: web.Request, handler: Any) -> web.StreamResponse:
    """Routing, auth and error rendering, in the order the live API applies them."""
    request[REQUEST_ID] = ids.request_id()
    request[CORRELATION_ID] = ids.correlation_id()
    config = request.app[CONFIG]
    routing_error = getattr(request.match_info, "http_exception", None)
    try:
        if isinstance(routing_error, web.HTTPNotFound):
            raise no_route(request[REQUEST_ID])
        if request.path not in PUBLIC_PATHS:
            request[API_KEY] = _authenticate(request, config)
        if isinstance(routing_error, web.HTTPMethodNotAllowed):
            raise method_not_allowed(sorted(routing_error.allowed_methods))
        return await handler(request)
    except MistralError as error:
        return _error_response(request, error)
    except web.HTTPRequestEntityTooLarge:
        return _error_response(request, body_too_large(request.content_length, config.max_body_bytes))
    except (asyncio.CancelledError, sse.Disconnected, ConnectionResetError):
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error_response(
            request, MistralError(500, envelope("Internal server error", "internal_server_error", "1000"))
        )


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def list_models(request: web.Request) -> web.Response:
    created = int(time.time())
    body = {"object": "list", "data": [card.render(created) for card in catalogue.cards()]}
    return _json(request, body)


async def retrieve_model(request: web.Request) -> web.Response:
    model_id = request.match_info["model_id"]
    family = catalogue.lookup(model_id)
    if family is None:
        # Undocumented on the live API; answered like an unknown model elsewhere, with a 404.
        body = envelope(f"Invalid model: {model_id}", "invalid_model", "1500", raw_status_code=404)
        raise MistralError(404, body)
    return _json(request, catalogue.Card(model_id, family).render(int(time.time())))


def _json(request: web.Request, body: dict[str, Any], cost: int | None = None) -> web.Response:
    headers = {
        **_base_headers(request),
        **request.app[LIMITER].headers(_key(request), cost),
        "Content-Type": JSON,
    }
    return web.Response(body=dumps(body), headers=headers)


def _compute(request: web.Request, raw: bytes) -> Outcome:
    """The endpoint's answer; identical bodies give identical answers, so they are cached."""
    compute = POST_ROUTES[request.path]
    cache = request.app[CACHE]
    cacheable = len(raw) <= CACHE_MAX_BODY
    key = (request.path, request.headers.get("Content-Type"), raw)
    if cacheable and key in cache:
        cache.move_to_end(key)
        cached = cache[key]
        if isinstance(cached, MistralError):
            raise cached
        return cached
    try:
        outcome = compute(raw, request.headers.get("Content-Type"))
    except MistralError as error:
        outcome = error  # type: ignore[assignment]
    if cacheable:
        cache[key] = outcome
        if len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    if isinstance(outcome, MistralError):
        raise outcome
    return outcome


async def _sleep_ms(milliseconds: int | None) -> None:
    if milliseconds:
        await asyncio.sleep(milliseconds / 1000)


async def post_endpoint(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    limiter = request.app[LIMITER]
    fault = faults.parse(request.headers.get(faults.HEADER))
    latency = fault.latency_ms if fault.latency_ms is not None else config.latency_ms
    if fault.status is not None:
        await _sleep_ms(latency)
        error = status_error(fault.status, request[REQUEST_ID])
        if fault.retry_after is not None:
            error = MistralError(
                error.status, error.body, {**error.headers, "Retry-After": str(fault.retry_after)},
                error.content_type, error.gateway, error.details,
            )  # fmt: skip
        raise error
    wait = limiter.admit_request(_key(request))
    if wait:
        raise rate_limited(max(1, int(-(-wait // 1))))
    raw = await request.read()
    outcome = _compute(request, raw)
    wait = limiter.admit_tokens(_key(request), outcome.cost)
    if wait:
        raise rate_limited(max(1, int(-(-wait // 1))))
    await _sleep_ms(latency)
    if fault.disconnect_after is not None and not outcome.stream:
        request.transport and request.transport.abort()
        raise sse.Disconnected
    created = int(time.time())
    if not outcome.stream:
        return _json(request, outcome.json(created), outcome.cost)
    return await _stream(request, outcome, created, fault)


async def _stream(
    request: web.Request, outcome: Outcome, created: int, fault: faults.Fault
) -> web.StreamResponse:
    config = request.app[CONFIG]
    assert outcome.answer is not None
    padding = None
    if config.padding:
        import random

        padding = random.Random(outcome.answer.id)
    events = [sse.encode(chunk) for chunk in chat_synth.chunks(outcome.answer, created, padding)]
    events.append(sse.DONE)
    headers = {
        **_base_headers(request),
        **request.app[LIMITER].headers(_key(request), outcome.cost),
        "Content-Type": sse.CONTENT_TYPE,
        "Cache-Control": "no-cache",
    }
    response = web.StreamResponse(headers=headers)
    response.enable_chunked_encoding()
    await response.prepare(request)
    chunk_ms = fault.chunk_ms if fault.chunk_ms is not None else config.chunk_ms
    try:
        await sse.send(
            response,
            sse.evenly(events, (fault.ttft_ms or 0) / 1000, chunk_ms / 1000),
            disconnect_after=fault.disconnect_after,
            transport=request.transport,
        )
    except sse.Disconnected:
        return response
    await response.write_eof()
    return response


async def _warm(app: web.Application) -> None:
    from mockserver.synthetic import prose, tokens

    loop = asyncio.get_running_loop()
    loop.run_in_executor(None, lambda: (tokens.raw_tokenizer("tekken"), prose.warm()))


SYNTHETIC_ROUTES: dict[tuple[str, str], Any] = {("POST", path): post_endpoint for path in POST_ROUTES}
SYNTHETIC_ROUTES[("GET", "/v1/models")] = list_models


def synthetic_handler(request: web.Request) -> Any:
    """The synthetic handler for a request's route, for replay's ``--on-miss synthetic``."""
    handler = SYNTHETIC_ROUTES.get((request.method, request.path))
    if handler is None and request.method == "GET" and request.path.startswith("/v1/models/"):
        request.match_info["model_id"] = request.path.rsplit("/", 1)[-1]
        handler = retrieve_model
    return handler


def create_app(config: MockConfig | None = None) -> web.Application:
    """The mock as an aiohttp application, for ``web.run_app``, tests and gunicorn."""
    config = config or MockConfig()
    app = web.Application(middlewares=[edges], client_max_size=config.max_body_bytes)
    app[CONFIG] = config
    app[LIMITER] = RateLimiter(config.rpm, config.tpm)
    app[CACHE] = OrderedDict()
    app.router.add_get("/health", health)
    if config.mode == "synthetic":
        app.router.add_get("/v1/models", list_models)
        app.router.add_get("/v1/models/{model_id}", retrieve_model)
        for path in POST_ROUTES:
            app.router.add_post(path, post_endpoint)
    else:
        from mockserver.recording.service import RecordingService

        service = RecordingService(config, synthetic_handler)

        async def recorded(request: web.Request) -> web.StreamResponse:
            headers = {**_base_headers(request)}
            if config.mode != "record":
                headers.update(request.app[LIMITER].headers(_key(request)))
            return await service.handle(request, headers)

        app.router.add_route("*", "/{tail:.*}", recorded)
        app.on_startup.append(service.start)
        app.on_cleanup.append(service.stop)
        app[SERVICE] = service
    if config.mode == "synthetic" or config.on_miss == "synthetic":
        app.on_startup.append(_warm)
    return app
