"""The JSON answers the shim sends: translated bodies, and refusals in the dialect of the route.

Translated routes answer in OpenAI's dialect (``{"error": {"message", "type", "param", "code"}}``, the shape
the openai SDKs read); the pass-through (``/mistral/v1/*``) answers in Mistral's, so that a client of
Mistral's own API (its SDK, LiteLLM's mistral provider) reads the shim's refusals as it reads Mistral's.
"""

from collections.abc import Mapping
from typing import Any, Literal

from aiohttp import web

from mistral_wire import jsonio
from mistral_wire.contract.errors import envelope
from shim.translate import errors
from shim.translate.plan import Raw
from shim.translate.problem import OpenAIError

Dialect = Literal["openai", "mistral"]
JSON = "application/json"


def json_response(body: Any, upstream_headers: Mapping[str, str]) -> web.Response:
    """A translated JSON answer with Mistral's rate-limit headers (also under OpenAI's names).

    The edges add the shim's own headers (``Exchange.headers``) as the answer leaves.
    """
    headers = errors.openai_rate_limit_headers(upstream_headers)
    headers["Content-Type"] = JSON
    return web.Response(body=jsonio.dumps(body), headers=headers)


def raw_response(answer: Raw, upstream_headers: Mapping[str, str]) -> web.Response:
    """An answer that is not JSON (speech audio, a transcript as text or subtitles), with the rate-limit
    headers as every translated answer has them."""
    headers = errors.openai_rate_limit_headers(upstream_headers)
    headers["Content-Type"] = answer.content_type
    return web.Response(body=answer.body, headers=headers)


def error_body(error: OpenAIError, dialect: Dialect) -> dict[str, Any]:
    if dialect == "mistral":
        return envelope(error.message, error.type, error.code)
    return error.body()


def error_response(error: OpenAIError, dialect: Dialect = "openai") -> web.Response:
    response = web.Response(
        status=error.status,
        body=jsonio.dumps(error_body(error, dialect)),
        headers={**error.headers, "Content-Type": JSON},
    )
    if error.close_connection:
        response.force_close()
    return response


def dialect_of(path: str) -> Dialect:
    """Mistral's own routes, passed through, answer like Mistral."""
    return "mistral" if path.startswith("/mistral/") or path in ("/v1/ocr", "/ocr") else "openai"
