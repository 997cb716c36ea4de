"""The shim's HTTP surface: routes and the middleware every request goes through.

``create_app()`` with no argument reads its settings from the environment (and ``SHIM_CONFIG``), so the
same factory serves ``mistral-shim serve`` and ``gunicorn 'shim.app:create_app()' --worker-class
aiohttp.GunicornWebWorker -w N``: the shim keeps no state between requests and scales out as N copies.
"""

import hmac
import logging
import os
import time
from typing import Any

from aiohttp import web

from shim import accesslog
from shim import config as config_module
from shim.config import ShimConfig
from shim.endpoints.chat import chat_completions
from shim.endpoints.passthrough import passthrough
from shim.relay import ClientGone
from shim.state import CONFIG, LEDGER, UPSTREAM, Ledger
from shim.translate.problem import OpenAIError
from shim.upstream import Upstream

log = logging.getLogger("shim")
PUBLIC_PATHS = frozenset({"/health"})
EXPOSED_HEADERS = ("x-request-id", "x-shim-dropped-params", "x-shim-repairs", "x-shim-overhead-ms")


def _request_id(request: web.Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if 0 < len(given) <= 128 and given.isprintable() else "req_" + os.urandom(12).hex()


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _authenticate(request: web.Request, config: ShimConfig) -> str | None:
    """The bearer to forward upstream (None when the shim uses its own key), or OpenAI's 401."""
    bearer = _bearer(request)
    if config.mistral_api_key:
        if config.client_keys:
            presented = (bearer or "").encode()
            # Compare with every key, in constant time, so timing says nothing about which one is close.
            matched = [hmac.compare_digest(presented, key.encode()) for key in config.client_keys]
            if not any(matched):
                raise OpenAIError(401, "Incorrect API key provided.", code="invalid_api_key")
        return None
    if not bearer:
        raise OpenAIError(
            401,
            "You didn't provide an API key. Send your Mistral key as 'Authorization: Bearer <key>'.",
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


def _error_response(request: web.Request, error: OpenAIError) -> web.Response:
    headers = {**error.headers, "x-request-id": request[LEDGER].request_id}
    return web.json_response(error.body(), status=error.status, headers=headers)


def _routing_error(request: web.Request, exc: web.HTTPException) -> OpenAIError:
    if exc.status == 405:
        return OpenAIError(
            405, f"Method {request.method} is not allowed on {request.path}.", code="method_not_allowed"
        )
    if exc.status == 413:
        limit = request.app[CONFIG].max_body_bytes
        return OpenAIError(
            413, f"The request body exceeds the shim's limit of {limit} bytes.", code="request_too_large"
        )
    return OpenAIError(404, f"Invalid URL ({request.method} {request.path}).", code="unknown_url")


@web.middleware
async def edges(request: web.Request, handler: Any) -> web.StreamResponse:
    """Request id, CORS, auth, OpenAI-style errors for everything, and the access log line."""
    config = request.app[CONFIG]
    entry = Ledger(request_id=_request_id(request), started=time.monotonic())
    request[LEDGER] = entry
    cors = _cors(request, config)
    status = 500
    try:
        if request.method == "OPTIONS" and cors:
            response: web.StreamResponse = web.Response(status=204, headers=cors)
        else:
            if request.path not in PUBLIC_PATHS:
                entry.client_bearer = _authenticate(request, config)
            response = await handler(request)
    except OpenAIError as error:
        response = _error_response(request, error)
    except web.HTTPException as exc:
        response = _error_response(request, _routing_error(request, exc))
    except ClientGone:
        status = 499  # nginx's "client closed request", for the log only
        accesslog.record(entry, request.method, request.path, status)
        raise
    except Exception:
        log.exception("request %s failed", entry.request_id)
        error = OpenAIError(
            500, f"The shim failed unexpectedly (request id {entry.request_id}).", type="server_error"
        )
        response = _error_response(request, error)
    status = response.status
    if not response.prepared:
        response.headers.update(cors)
        response.headers.setdefault("x-request-id", entry.request_id)
    accesslog.record(entry, request.method, request.path, status)
    return response


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(config: ShimConfig | None = None) -> web.Application:
    """The shim as an aiohttp application; settings from the environment when none are given."""
    config = config or config_module.build()
    app = web.Application(middlewares=[edges], client_max_size=config.max_body_bytes)
    app[CONFIG] = config
    upstream = Upstream(config)
    app[UPSTREAM] = upstream
    app.on_startup.append(upstream.start)
    app.on_cleanup.append(upstream.close)
    app.router.add_get("/health", health)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/ocr", passthrough)
    app.router.add_route("*", "/mistral/v1/{path:.+}", passthrough)
    _add_translated_routes(app)
    return app


def _add_translated_routes(app: web.Application) -> None:
    from shim.endpoints.completions import completions
    from shim.endpoints.embeddings import embeddings
    from shim.endpoints.models import list_models, retrieve_model

    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/v1/completions", completions)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model_id:.+}", retrieve_model)
