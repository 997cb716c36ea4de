"""What every request meets before and after its route: its id, CORS, the key, refusals, the access log.

The route's own work (``shim.pipeline`` for translated routes, ``shim.passthrough`` for Mistral's) returns
an answer carrying its ``Exchange``; the edges add the headers every answer carries and write its log line.
A refusal raised before the route runs (an unknown route, a wrong key) is rendered here, in the dialect of
the route: OpenAI's on translated routes, Mistral's on the pass-through.
"""

import asyncio
import hmac
import itertools
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from mistral_wire.http import bearer
from shim import accesslog, answers, body
from shim.exchange import EXCHANGE, IN_FLIGHT, Exchange
from shim.keys import CREDENTIAL, REQUEST_ID, SETTINGS, STARTED
from shim.settings import ShimSettings, is_loopback
from shim.translate.problem import OpenAIError, server_error

log = logging.getLogger("shim")
PUBLIC_PATHS = frozenset({"/health"})
EXPOSED_HEADERS = (
    "x-request-id",
    "x-shim-dropped-params",
    "x-shim-repairs",
    "x-shim-overhead-ms",
    "x-mistral-model",
)
CLIENT_CLOSED = 499  # nginx's "client closed request", for the log only

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Request ids: a random prefix per process and a counter, unique across gunicorn workers without paying for
# a random number on every request. They identify a request in the logs; they are not secrets.
_ID_PREFIX = "req_" + os.urandom(6).hex()
_ID_COUNTER = itertools.count()


def _request_id(request: web.Request) -> str:
    given = request.headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isprintable():
        return given
    return f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"


def _local_peer(request: web.Request) -> bool:
    """Whether the client is on this machine: a loopback address, or a Unix socket (gunicorn --bind unix:)."""
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None and sock.family == socket.AF_UNIX:
        return True
    return is_loopback(request.remote or "")


def _missing_key() -> OpenAIError:
    return OpenAIError(
        401,
        "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
        type="authentication_error",
        code="missing_api_key",
    )


def authenticate(request: web.Request, settings: ShimSettings) -> str | None:
    """The bearer to forward upstream (None when the shim uses its own key), or OpenAI's 401/403."""
    presented = bearer(request.headers)
    if settings.mistral_api_key:
        if settings.client_keys:
            # A header with bytes that are not UTF-8 arrives with surrogate escapes: compare its bytes.
            given = (presented or "").encode("utf-8", "surrogateescape")
            # Compare with every key, in constant time, so timing says nothing about which one is close.
            matched = [hmac.compare_digest(given, key.encode()) for key in settings.client_keys]
            if presented is None:
                raise _missing_key()
            if not any(matched):
                raise OpenAIError(
                    401,
                    "Incorrect API key provided: it is not one of this shim's client keys (--api-key).",
                    type="authentication_error",
                    code="invalid_api_key",
                )
        elif not _local_peer(request):
            # Bound to loopback at start, but reached from elsewhere (a proxy, gunicorn on 0.0.0.0): the
            # shim's own key is never spent for a client it cannot authenticate.
            raise OpenAIError(
                403,
                "This shim uses its own Mistral key and has no client keys configured, so it only answers "
                "clients on this machine. Configure --api-key (or SHIM_API_KEYS) to serve others.",
                type="permission_error",
                code="client_keys_required",
            )
        return None
    if presented is None:
        raise OpenAIError(
            401,
            "You didn't provide an API key. Send your Mistral key as 'Authorization: Bearer <key>'.",
            type="authentication_error",
            code="missing_api_key",
        )
    return presented


def _cors(request: web.Request, settings: ShimSettings) -> dict[str, str]:
    origin = request.headers.get("Origin")
    if not origin or not settings.cors_origins:
        return {}
    if "*" not in settings.cors_origins and origin not in settings.cors_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin if "*" not in settings.cors_origins else "*",
        # The openai SDK sends its own x-stainless-* headers: allow what the preflight asks for.
        "Access-Control-Allow-Headers": request.headers.get(
            "Access-Control-Request-Headers", "Authorization, Content-Type"
        ),
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
        "Vary": "Origin",
    }


def _routing_error(request: web.Request, exc: web.HTTPException) -> OpenAIError:
    """An aiohttp HTTP exception (a route not found, a method not allowed...) as the shim's refusal."""
    if exc.status == 413:
        settings = request.app[SETTINGS]
        return body.too_large(
            body.Limits(settings.max_body_bytes, settings.max_body_mb, settings.client_timeout, 0)
        )
    if exc.status == 405:
        message = f"Method {request.method} is not allowed on {request.path}."
        return OpenAIError(405, message, code="method_not_allowed")
    if exc.status == 404:
        return OpenAIError(404, f"Invalid URL ({request.method} {request.path}).", code="unknown_url")
    return OpenAIError(exc.status, exc.reason, code=exc.reason.lower().replace(" ", "_"))


@web.middleware
async def edges(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, CORS, auth, refusals in the route's dialect, the shim's headers and the access log."""
    settings = request.app[SETTINGS]
    request[REQUEST_ID] = _request_id(request)
    request[STARTED] = time.monotonic()
    dialect = answers.dialect_of(request.path)
    cors = _cors(request, settings)
    response: web.StreamResponse
    try:
        if request.method == "OPTIONS" and cors:
            response = web.Response(status=204)
        else:
            routing = request.match_info.http_exception
            if routing is not None:  # unknown route or method: say so before asking for a key
                raise routing
            request[CREDENTIAL] = None
            if request.path not in PUBLIC_PATHS:
                request[CREDENTIAL] = authenticate(request, settings)
            response = await handler(request)
    except OpenAIError as error:
        response = answers.error_response(error, dialect)
    except web.HTTPException as exc:
        response = answers.error_response(_routing_error(request, exc), dialect)
    except asyncio.CancelledError:  # the client went away and aiohttp cancelled the handler
        # ... perhaps after the handler wrote its whole answer (a stream's client hangs up once it read
        # the last event): that answer was delivered, and is logged as what it was.
        exchange = request.get(IN_FLIGHT)
        delivered = exchange.delivered if exchange is not None else None
        _log(request, exchange, CLIENT_CLOSED if delivered is None else delivered)
        raise
    except Exception:
        log.exception("request %s failed", request[REQUEST_ID])
        failure = server_error(500, f"The shim failed unexpectedly (request id {request[REQUEST_ID]}).")
        response = answers.error_response(failure, dialect)
    exchange = response.get(EXCHANGE)
    if exchange is not None and exchange.client_gone:
        _log(request, exchange, CLIENT_CLOSED)
        return response
    if response.status >= 400 and _unread_body(request):
        # A body never read (an unknown route, a refused key): answer, then close. aiohttp would otherwise
        # read the rest after the answer, and a body that does not decode as its Content-Encoding says
        # would make it drop the kept-alive connection under the client's next request.
        response.force_close()
    _finish(request, response, cors, exchange)
    _log(request, exchange, response.status)
    return response


def _unread_body(request: web.Request) -> bool:
    return request.body_exists and not request.content.at_eof()


def _finish(
    request: web.Request, response: web.StreamResponse, cors: Mapping[str, str], exchange: Exchange | None
) -> None:
    """Headers every answer carries, set on one not yet sent (a stream set them before its first byte)."""
    if response.prepared:
        return
    response.headers.update(cors)
    record = exchange or Exchange(request_id=request[REQUEST_ID], started=request[STARTED])
    response.headers.update(record.headers())


def _log(request: web.Request, exchange: Exchange | None, status: int) -> None:
    record = exchange or Exchange(request_id=request[REQUEST_ID], started=request[STARTED])
    accesslog.record(record, request.method, request.path, status)
