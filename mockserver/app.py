"""The mock's HTTP surface: routes, auth, body limits, fault injection, rate limits and sending.

What to answer is decided in ``endpoints``; this module decides whether to answer at all (route, auth,
faults, rate limits), and how (JSON or SSE, headers, delays). Faults (``x-mock-fault``), ``--latency-ms``
and the ``--rpm``/``--tpm`` buckets apply in the middleware, so every ``/v1`` route gets them, the models
routes and replayed answers included; record and auto modes forward the fault header instead. Every
answer, refusals included, carries ``mistral-correlation-id`` and gets one access line naming it
(``mockserver.logs``).
"""

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from mistral_wire.contract import catalogue
from mistral_wire.contract.errors import (
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
    unparseable_body,
)
from mistral_wire.scrub import REDACTED
from mockserver import faults, ids, logs, sse
from mockserver.config import MockConfig
from mockserver.endpoints import POST_ROUTES, Outcome
from mockserver.ratelimit import RateLimiter
from mockserver.synthetic import chat as chat_synth

log = logging.getLogger("mockserver")

CONFIG = web.AppKey("config", MockConfig)
LIMITER = web.AppKey("limiter", RateLimiter)
CACHE = web.AppKey("cache", OrderedDict)
SERVICE = web.AppKey("recording_service", object)
WARM = web.AppKey("warm", asyncio.Future)
REQUEST_ID = web.RequestKey("request_id", str)
CORRELATION_ID = web.RequestKey("correlation_id", str)
API_KEY = web.RequestKey("api_key", str)
FAULT = web.RequestKey("fault", faults.Fault)
# loop.time() when the request reached the server: replayed SSE offsets count from here.
ARRIVED = web.RequestKey("arrived", float)
# Modes in which the mock answers itself, and so applies faults and rate limits; the others forward.
SELF_ANSWERING = frozenset({"synthetic", "replay"})

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


def _seconds(wait: float) -> int:
    return max(1, int(-(-wait // 1)))


async def _admit(request: web.Request, config: MockConfig) -> None:
    """Faults, latency and rate limits of one ``/v1`` request, before its handler runs."""
    fault = faults.parse(request.headers.get(faults.HEADER))
    request[FAULT] = fault
    latency = fault.latency_ms if fault.latency_ms is not None else config.latency_ms
    if latency:
        await _sleep_ms(latency)
        # A replay's recorded offsets start after the added latency, as the answer does.
        request[ARRIVED] = asyncio.get_running_loop().time()
    if fault.status is not None:
        error = status_error(fault.status, request[REQUEST_ID], fault.shape or config.rate_limit_shape)
        if fault.retry_after is not None:
            error = MistralError(
                error.status, error.body, {**error.headers, "Retry-After": str(fault.retry_after)},
                error.content_type, error.gateway, error.details,
            )  # fmt: skip
        raise error
    limiter = request.app[LIMITER]
    wait = limiter.admit_request(_key(request)) or limiter.exhausted(_key(request))
    if wait:
        raise rate_limited(_seconds(wait), config.rate_limit_shape)


@web.middleware
async def edges(request: web.Request, handler: Any) -> web.StreamResponse:
    """Ids, then the answer (see ``_answer``), then the id headers and the access line, on every request."""
    started = time.monotonic()
    request[ARRIVED] = asyncio.get_running_loop().time()
    request[REQUEST_ID] = ids.request_id()
    request[CORRELATION_ID] = ids.correlation_id()
    response: web.StreamResponse | None = None
    try:
        response = await _answer(request, handler)
        if not response.prepared:
            # Every answer carries an id (replayed and proxied ones keep the one they came with).
            for name, value in _base_headers(request).items():
                response.headers.setdefault(name, value)
        return response
    finally:
        _log_access(request, response, started)


def _log_access(request: web.Request, response: web.StreamResponse | None, started: float) -> None:
    status = logs.CLIENT_CLOSED if response is None else response.status
    correlation = request[CORRELATION_ID]
    if response is not None:
        correlation = response.headers.get("mistral-correlation-id", correlation)
    logs.access(request.method, _logged_path(request), status, correlation, request[REQUEST_ID], started)


def _logged_path(request: web.Request) -> str:
    """The path for a log line, without the caller's key (a client may put anything in a path)."""
    key = request.get(API_KEY) or request.headers.get("Authorization", "").partition(" ")[2].strip()
    return request.path.replace(key, REDACTED) if len(key) >= 4 else request.path


def _cut_if_asked(request: web.Request, response: web.StreamResponse) -> None:
    """``disconnect_after``: a plain answer is cut before any of it is sent (aiohttp's write then fails
    quietly); a stream is cut by the stream itself, after that many events."""
    fault = request.get(FAULT, faults.NONE)
    if fault.disconnect_after is not None and not response.prepared and request.transport is not None:
        request.transport.abort()


async def _answer(request: web.Request, handler: Any) -> web.StreamResponse:
    """Routing, auth, faults, rate limits and error rendering, in the order the live API applies them."""
    config = request.app[CONFIG]
    routing_error = getattr(request.match_info, "http_exception", None)
    try:
        if isinstance(routing_error, web.HTTPNotFound):
            raise no_route(request[REQUEST_ID])
        if request.path not in PUBLIC_PATHS:
            request[API_KEY] = _authenticate(request, config)
        if isinstance(routing_error, web.HTTPMethodNotAllowed):
            raise method_not_allowed(sorted(routing_error.allowed_methods))
        if request.path.startswith("/v1/") and config.mode in SELF_ANSWERING:
            await _admit(request, config)
        response = await handler(request)
        _cut_if_asked(request, response)
        return response
    except MistralError as error:
        # A refusal is cut too: in replay mode a plain answer asked to be cut has no recording (record
        # mode keeps nothing when the upstream hangs up), and the client asked for a dropped connection.
        response = _error_response(request, error)
        _cut_if_asked(request, response)
        return response
    except web.HTTPRequestEntityTooLarge:
        return _error_response(request, body_too_large(request.content_length, config.max_body_bytes))
    except (web.RequestPayloadError, HttpProcessingError):
        # A body aiohttp cannot read (a broken chunk): this connection ends with the answer.
        response = _error_response(request, unparseable_body())
        response.force_close()
        return response
    except (asyncio.CancelledError, sse.Disconnected, ConnectionResetError):
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, _logged_path(request))
        return _error_response(request, INTERNAL)


# The last resort: a bug answers Mistral's generic 500, in JSON, and is logged with its traceback.
INTERNAL = MistralError(500, envelope("Internal server error", "internal_server_error", "1000"))


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
    warm = request.app.get(WARM)
    if warm is not None and not warm.done():
        # The tokenizers are still loading in the background: wait for that load (without blocking the
        # loop) rather than start a second one on it.
        await asyncio.shield(warm)
    raw = await request.read()
    outcome = _compute(request, raw)
    wait = request.app[LIMITER].admit_tokens(_key(request), outcome.cost)
    if wait:
        raise rate_limited(_seconds(wait), config.rate_limit_shape)
    created = int(time.time())
    if not outcome.stream:
        return _json(request, outcome.json(created), outcome.cost)
    return await _stream(request, outcome, created, request.get(FAULT, faults.NONE))


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
    """Load the tokenizer and the prose corpus in a thread, so startup does not wait for them (~1.2 s)."""
    from mistral_wire import tokens
    from mockserver.synthetic import prose

    def load() -> None:
        tokens.raw_tokenizer("tekken")
        prose.warm()

    future = asyncio.get_running_loop().run_in_executor(None, load)
    future.add_done_callback(lambda f: f.cancelled() or f.exception())  # never "exception never retrieved"
    app[WARM] = future


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
    app = web.Application(
        middlewares=[edges],
        client_max_size=config.max_body_bytes,
        # Mistral's API (FastAPI) reads a request body as sent, whatever its Content-Encoding: a gzipped
        # body is bytes that do not parse (400), not JSON. Decoding it here would also answer a body that
        # fails to decode with a dropped connection instead, and forward a decoded body labelled gzip.
        handler_args={"auto_decompress": False},
    )
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
            return await service.handle(
                request,
                headers,
                arrived=request[ARRIVED],
                fault=request.get(FAULT, faults.NONE),
                spend=lambda cost: request.app[LIMITER].spend(_key(request), cost),
            )

        app.router.add_route("*", "/{tail:.*}", recorded)
        app.on_startup.append(service.start)
        app.on_cleanup.append(service.stop)
        app[SERVICE] = service
    if config.mode == "synthetic" or config.on_miss == "synthetic":
        app.on_startup.append(_warm)
    return app
