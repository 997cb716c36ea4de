"""The shim's HTTP surface: routes and the middleware every request goes through.

``create_app()`` with no argument reads its settings from the environment (and ``SHIM_CONFIG``), so the
same factory serves ``mistral-shim serve`` and ``gunicorn 'shim.app:create_app()' --worker-class
aiohttp.GunicornWebWorker -w N``: the shim keeps no state between requests and scales out as N copies.
``gunicorn shim.app:gunicorn_runner ...`` is the same app with handlers cancelled when a client leaves.
"""

import asyncio
import hmac
import itertools
import logging
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from shim import accesslog, intake
from shim import config as config_module
from shim.config import ShimConfig, is_loopback
from shim.endpoints.chat import chat_completions
from shim.endpoints.completions import completions
from shim.endpoints.embeddings import embeddings
from shim.endpoints.models import list_models, retrieve_model
from shim.endpoints.passthrough import passthrough
from shim.relay import ClientGone
from shim.state import CONFIG, LEDGER, UPSTREAM, Ledger
from shim.translate.problem import OpenAIError, server_error
from shim.upstream import Upstream

log = logging.getLogger("shim")
PUBLIC_PATHS = frozenset({"/health"})
CLIENT_CLOSED = 499  # nginx's "client closed request", for the log only
# aiohttp cancels a handler whose client went away only when asked to; the shim then closes the upstream
# request at once instead of at Mistral's next event. Whatever runs the app should pass these.
RUNNER_OPTIONS: dict[str, Any] = {"handler_cancellation": True, "access_log": None}
EXPOSED_HEADERS = ("x-request-id", "x-shim-dropped-params", "x-shim-repairs", "x-shim-overhead-ms")


# Request ids: a random prefix per process and a counter, unique across gunicorn workers without paying for
# a random number on every request. They identify a request in the logs; they are not secrets.
_ID_PREFIX = "req_" + os.urandom(6).hex()
_ID_COUNTER = itertools.count()


def _request_id(request: web.Request) -> str:
    given = request.headers.get("x-request-id", "")
    if 0 < len(given) <= 128 and given.isprintable():
        return given
    return f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _local_peer(request: web.Request) -> bool:
    """Whether the client is on this machine: a loopback address, or a Unix socket (gunicorn --bind unix:)."""
    transport = request.transport
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is not None and sock.family == socket.AF_UNIX:
        return True
    return is_loopback(request.remote or "")


def _authenticate(request: web.Request, config: ShimConfig) -> str | None:
    """The bearer to forward upstream (None when the shim uses its own key), or OpenAI's 401/403."""
    bearer = _bearer(request)
    if config.mistral_api_key:
        if config.client_keys:
            # A header with bytes that are not UTF-8 arrives with surrogate escapes: compare its bytes.
            presented = (bearer or "").encode("utf-8", "surrogateescape")
            # Compare with every key, in constant time, so timing says nothing about which one is close.
            matched = [hmac.compare_digest(presented, key.encode()) for key in config.client_keys]
            if not any(matched):
                raise OpenAIError(
                    401, "Incorrect API key provided.", type="authentication_error", code="invalid_api_key"
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
    if not bearer:
        raise OpenAIError(
            401,
            "You didn't provide an API key. Send your Mistral key as 'Authorization: Bearer <key>'.",
            type="authentication_error",
            code="missing_api_key",
        )
    return bearer


def _cors(request: web.Request, config: ShimConfig) -> dict[str, str]:
    origin = request.headers.get("Origin")
    if not origin or not config.cors_origins:
        return {}
    if "*" not in config.cors_origins and origin not in config.cors_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin if "*" not in config.cors_origins else "*",
        # The openai SDK sends its own x-stainless-* headers: allow what the preflight asks for.
        "Access-Control-Allow-Headers": request.headers.get(
            "Access-Control-Request-Headers", "Authorization, Content-Type"
        ),
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
        "Vary": "Origin",
    }


def _error_response(error: OpenAIError) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=error.headers)


def _routing_error(request: web.Request, exc: web.HTTPException) -> OpenAIError:
    """An aiohttp HTTP exception (a route not found, a method not allowed...) as OpenAI's error."""
    if exc.status == 413:
        return intake.too_large(request)
    if exc.status == 405:
        message = f"Method {request.method} is not allowed on {request.path}."
        return OpenAIError(405, message, code="method_not_allowed")
    if exc.status == 404:
        return OpenAIError(404, f"Invalid URL ({request.method} {request.path}).", code="unknown_url")
    return OpenAIError(exc.status, exc.reason, code=exc.reason.lower().replace(" ", "_"))


def _finish(request: web.Request, response: web.StreamResponse, cors: Mapping[str, str]) -> None:
    """Headers every answer carries, set on one not yet sent (a stream set them before its first byte)."""
    entry = request[LEDGER]
    if response.prepared:
        return
    response.headers.update(cors)
    response.headers.update(entry.headers())
    if request.app[CONFIG].log_bodies and isinstance(response, web.Response):
        body = response.body
        entry.response_body = body if isinstance(body, bytes) else entry.response_body


@web.middleware
async def edges(request: web.Request, handler: Any) -> web.StreamResponse:
    """Request id, CORS, auth, OpenAI-style errors for everything, and the access log line."""
    config = request.app[CONFIG]
    entry = Ledger(request_id=_request_id(request), started=time.monotonic())
    request[LEDGER] = entry
    cors = _cors(request, config)
    try:
        if request.method == "OPTIONS" and cors:
            response: web.StreamResponse = web.Response(status=204)
        else:
            routing = request.match_info.http_exception
            if routing is not None:  # unknown route or method: say so before asking for a key
                raise routing
            if request.path not in PUBLIC_PATHS:
                entry.client_bearer = _authenticate(request, config)
            response = await handler(request)
    except OpenAIError as error:
        response = _error_response(error)
    except web.HTTPException as exc:
        response = _error_response(_routing_error(request, exc))
    except ClientGone as gone:
        accesslog.record(entry, request.method, request.path, CLIENT_CLOSED)
        return gone.response
    except asyncio.CancelledError:  # the client went away and aiohttp cancelled the handler
        accesslog.record(entry, request.method, request.path, CLIENT_CLOSED)
        raise
    except Exception:
        log.exception("request %s failed", entry.request_id)
        error = server_error(500, f"The shim failed unexpectedly (request id {entry.request_id}).")
        response = _error_response(error)
    if entry.close_after or (response.status >= 400 and _unread_body(request)):
        # A body refused half-read, or never read (an unknown route, a refused key): answer, then close.
        # aiohttp would otherwise read the rest after the answer, and a body that does not decode as its
        # Content-Encoding says would make it drop the kept-alive connection under the client's next request.
        response.force_close()
    _finish(request, response, cors)
    accesslog.record(entry, request.method, request.path, response.status)
    return response


def _unread_body(request: web.Request) -> bool:
    return request.body_exists and not request.content.at_eof()


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(config: ShimConfig | None = None) -> web.Application:
    """The shim as an aiohttp application; settings from the environment when none are given."""
    if config is None:  # gunicorn and other hosts: settings and logging from the environment
        config = config_module.build()
        accesslog.configure(config.log_level, config.secrets)
    app = web.Application(middlewares=[edges], client_max_size=config.max_body_bytes)
    app[CONFIG] = config
    upstream = Upstream(config)
    app[UPSTREAM] = upstream
    app.on_startup.append(upstream.start)
    app.on_cleanup.append(upstream.close)
    app.router.add_get("/health", health)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/completions", completions)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model_id:.+}", retrieve_model)
    app.router.add_post("/v1/ocr", passthrough)
    app.router.add_route("*", "/mistral/v1/{path:.+}", passthrough)
    return app


async def gunicorn_runner() -> web.AppRunner:
    """``gunicorn shim.app:gunicorn_runner --worker-class aiohttp.GunicornWebWorker``: ``create_app()``
    with ``RUNNER_OPTIONS``, which aiohttp's worker accepts as a runner but cannot be told itself."""
    return web.AppRunner(create_app(), **RUNNER_OPTIONS)
