"""Small pieces every handler uses: reading the body, building headers, answering JSON."""

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aiohttp import web

from shim import relay
from shim.state import CONFIG, LEDGER, UPSTREAM, Ledger
from shim.translate import errors
from shim.translate.context import Options
from shim.translate.problem import OpenAIError
from shim.upstream import Upstream, error_from


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or OpenAI's 400 for a body that is not one."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        raise OpenAIError(
            400,
            "We could not parse the JSON body of your request. The body must be a JSON object (UTF-8).",
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise OpenAIError(400, "The request body must be a JSON object.", code="invalid_json")
    return body


def ledger(request: web.Request) -> Ledger:
    return request[LEDGER]


def upstream(request: web.Request) -> Upstream:
    return request.app[UPSTREAM]


def options(request: web.Request) -> Options:
    return request.app[CONFIG].options


def note(
    request: web.Request, body: Mapping[str, Any], dropped: tuple[str, ...], repairs: tuple[str, ...] = ()
) -> None:
    """Record what the translation decided, for the response headers and the access log."""
    entry = ledger(request)
    entry.model = body.get("model") if isinstance(body.get("model"), str) else None
    entry.dropped = dropped
    entry.repairs = repairs


def headers(request: web.Request, upstream_headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers every translated answer carries: request id, shim overhead, dropped params, rate limits."""
    entry = ledger(request)
    out = {"x-request-id": entry.request_id}
    overhead = (time.monotonic() - entry.started - entry.upstream_seconds) * 1000
    out["x-shim-overhead-ms"] = f"{max(0.0, overhead):.2f}"
    if entry.dropped:
        out["x-shim-dropped-params"] = ",".join(entry.dropped)
    if entry.repairs:
        out["x-shim-repairs"] = ",".join(entry.repairs)
    if upstream_headers is not None:
        out.update(errors.openai_rate_limit_headers(upstream_headers))
    return out


def json_response(
    request: web.Request, body: Any, upstream_headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=dumps(body), headers={**headers(request, upstream_headers), "Content-Type": "application/json"}
    )


async def read_upstream_json(response: Any) -> Any:
    """A successful upstream body as JSON; anything else is a broken gateway, answered 502."""
    raw = await response.read()
    try:
        return json.loads(raw)
    except ValueError:
        raise OpenAIError(
            502,
            "Mistral answered 200 with a body that is not JSON.",
            type="server_error",
            code="upstream_bad_body",
        ) from None


class StreamTranslation(Protocol):
    def feed(self, event: dict[str, Any]) -> list[dict[str, Any]]: ...

    def finish(self) -> list[dict[str, Any]]: ...


async def exchange(
    request: web.Request,
    path: str,
    body: Mapping[str, Any],
    answer: Callable[[Any], Any],
    stream_translator: Callable[[], StreamTranslation],
) -> web.StreamResponse:
    """POST a translated body to Mistral and translate what comes back: JSON, an SSE stream or an error.

    ``answer`` turns Mistral's JSON into the client's; ``stream_translator`` makes the per-stream state
    machine when the request asked for a stream. Upstream errors become OpenAI errors (raised).
    """
    entry = ledger(request)
    stream = body.get("stream") is True
    started = time.monotonic()
    async with upstream(request).request(
        "POST",
        path,
        client_bearer=entry.client_bearer,
        body=dumps(body),
        headers={"Content-Type": "application/json"},
        stream=stream,
    ) as (response, waited):
        entry.upstream_status = response.status
        if response.status != 200:
            error = await error_from(response)
            entry.upstream_seconds += time.monotonic() - started
            error.headers.update(headers(request))
            raise error
        if not stream:
            data = await read_upstream_json(response)
            entry.upstream_seconds += time.monotonic() - started
            return json_response(request, answer(data), response.headers)
        entry.upstream_seconds += waited
        translator = stream_translator()
        return await relay.relay(
            request, response, headers(request, response.headers), translator.feed, translator.finish
        )
