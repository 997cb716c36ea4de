"""What every request to the mock meets before a source answers it: ids, the key, faults, rate limits.

In the order the live API applies them: an unknown route (the gateway's 404) before the key, the key (the
gateway's 401), a wrong method, then the faults a test asked for with ``x-mock-fault`` and
``--latency-ms``, and in the modes where the mock answers itself (synthetic and replay) the
``--rpm``/``--tpm`` buckets. A forced ``status`` is the mock's own answer in every mode: in record and auto
modes Mistral is not asked (nothing is spent, nothing saved, and the replay answers the same header the
same way); the header's stream faults are forwarded upstream there. Every answer, refusals included, carries
``mistral-correlation-id`` and gets one access line naming it (``mockserver.logs``).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from mistral_wire.contract.errors import (
    MistralError,
    body_too_large,
    envelope,
    method_not_allowed,
    no_route,
    rate_limited,
    status_error,
    unauthorized,
    unparseable_body,
)
from mistral_wire.http import bearer
from mistral_wire.scrub import REDACTED
from mockserver import faults, ids, logs, render
from mockserver.chain import CHAIN
from mockserver.keys import API_KEY, ARRIVED, CORRELATION_ID, FAULT, LIMITER, REQUEST_ID, SETTINGS
from mockserver.ratelimit import retry_seconds
from mockserver.render import Rendered
from mockserver.settings import MockSettings

log = logging.getLogger("mockserver")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Modes in which the mock answers itself, and so applies faults and rate limits; the others forward.
SELF_ANSWERING = frozenset({"synthetic", "replay"})
PUBLIC_PATHS = frozenset({"/health"})
# Signed file URLs carry their own signature instead of a key (``GET /v1/files/{id}/url``).
PUBLIC_PREFIXES = ("/signed/",)
# The last resort: a bug answers Mistral's generic 500, in JSON, and is logged with its traceback.
INTERNAL = Rendered.of(MistralError(500, envelope("Internal server error", "internal_server_error", "1000")))


def base_headers(request: web.Request) -> dict[str, str]:
    """The tracing ids every answer carries, as the live API sends them."""
    correlation = request[CORRELATION_ID]
    return {"mistral-correlation-id": correlation, "x-kong-request-id": correlation}


def _authenticate(request: web.Request, settings: MockSettings) -> str:
    key = bearer(request.headers)
    if key is None or (settings.api_keys and key not in settings.api_keys):
        raise unauthorized(request[REQUEST_ID])
    return key


def _error_response(request: web.Request, error: MistralError) -> web.Response:
    settings = request.app[SETTINGS]
    extra = base_headers(request)
    if request.get(API_KEY) and error.status != 401:
        extra.update(request.app[LIMITER].headers(request[API_KEY]))
    return Rendered.of(error, settings.validation_shape).response(extra)


async def _admit(request: web.Request, settings: MockSettings, self_answering: bool) -> None:
    """Faults, latency and (when the mock answers itself) rate limits of one ``/v1`` request."""
    fault = faults.parse(request.headers.get(faults.HEADER))
    request[FAULT] = fault
    latency = fault.latency_ms if fault.latency_ms is not None else settings.latency_ms
    if latency:
        await asyncio.sleep(latency / 1000)
        # A replay's recorded offsets start after the added latency, as the answer does.
        request[ARRIVED] = asyncio.get_running_loop().time()
    if fault.status is not None:
        error = status_error(fault.status, request[REQUEST_ID], fault.shape or settings.rate_limit_shape)
        if fault.retry_after is not None:
            error.headers["Retry-After"] = str(fault.retry_after)
        raise error
    if not self_answering:
        return
    limiter = request.app[LIMITER]
    key = request.get(API_KEY, "")
    wait = limiter.admit_request(key) or limiter.exhausted(key)
    if wait:
        raise rate_limited(retry_seconds(wait), settings.rate_limit_shape)


@web.middleware
async def edges(request: web.Request, handler: Handler) -> web.StreamResponse:
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
            for name, value in base_headers(request).items():
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
    key = request.get(API_KEY) or bearer(request.headers) or ""
    return request.path.replace(key, REDACTED) if len(key) >= 4 else request.path


def _cut_if_asked(request: web.Request, response: web.StreamResponse) -> None:
    """``disconnect_after``: a plain answer is cut before any of it is sent (aiohttp's write then fails
    quietly); a stream is cut by the stream itself, after that many events."""
    fault = request.get(FAULT, faults.NONE)
    if fault.disconnect_after is not None and not response.prepared and request.transport is not None:
        request.transport.abort()


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Routing, auth, faults, rate limits and error rendering, in the order the live API applies them."""
    settings = request.app[SETTINGS]
    routing_error = getattr(request.match_info, "http_exception", None)
    response: web.StreamResponse
    try:
        if isinstance(routing_error, web.HTTPNotFound):
            raise no_route(request[REQUEST_ID])
        if request.path not in PUBLIC_PATHS and not request.path.startswith(PUBLIC_PREFIXES):
            request[API_KEY] = _authenticate(request, settings)
        if isinstance(routing_error, web.HTTPMethodNotAllowed):
            raise method_not_allowed(sorted(routing_error.allowed_methods))
        if request.path.startswith("/v1/"):
            await _admit(request, settings, request.app[CHAIN].chain.settings.mode in SELF_ANSWERING)
        response = await handler(request)
    except MistralError as error:
        # A refusal is cut too: in replay mode a plain answer asked to be cut has no recording (record
        # mode keeps nothing when the upstream hangs up), and the client asked for a dropped connection.
        response = _error_response(request, error)
    except web.HTTPRequestEntityTooLarge:
        return _error_response(request, body_too_large(request.content_length, settings.max_body_bytes))
    except (web.RequestPayloadError, HttpProcessingError):
        # A body aiohttp cannot read (a broken chunk): this connection ends with the answer.
        refused = _error_response(request, unparseable_body())
        refused.force_close()
        return refused
    except (asyncio.CancelledError, render.Disconnected, ConnectionResetError):
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, _logged_path(request))
        return INTERNAL.response(base_headers(request))
    _cut_if_asked(request, response)
    return response
