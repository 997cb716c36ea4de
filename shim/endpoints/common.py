"""What every translated handler shares: reading the body, one upstream exchange, answering JSON.

``exchange()`` is the one path a translated request takes upstream and back (JSON, SSE or error);
``fetch_json()`` is its non-streamed half, used alone by the handlers that send several requests
(embeddings batches) or a GET (models).
"""

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aiohttp import web

from mistral_wire import jsonio
from shim import intake, relay, requestbody
from shim.state import CONFIG, LEDGER, UPSTREAM, Ledger
from shim.translate import errors
from shim.translate.context import Options
from shim.translate.problem import server_error
from shim.upstream import Upstream, error_from

# Client headers a translated request carries upstream. Everything else the client sent (its SDK's
# x-stainless-* headers, cookies, its key) stays here; ``x-mock-fault`` lets tests drive the mock's faults
# through the shim and means nothing to Mistral.
FORWARDED = ("x-mock-fault",)


dumps = jsonio.dumps


def ledger(request: web.Request) -> Ledger:
    return request[LEDGER]


def upstream(request: web.Request) -> Upstream:
    return request.app[UPSTREAM]


def options(request: web.Request) -> Options:
    return request.app[CONFIG].options


async def read_body(request: web.Request) -> bytes:
    """The raw request body (kept for the log with ``--log-bodies``), or the 4xx of ``intake``."""
    raw = await intake.read(request)
    if request.app[CONFIG].log_bodies and raw:
        ledger(request).request_body = raw
    return raw


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or OpenAI's 4xx that says why it is not one (``requestbody``)."""
    raw = await read_body(request)
    return requestbody.parse_object(
        raw, request.headers.get("Content-Type"), request.app[CONFIG].max_json_depth
    )


def note(
    request: web.Request, body: Mapping[str, Any], dropped: tuple[str, ...], repairs: tuple[str, ...] = ()
) -> None:
    """Record what the translation decided, for the response headers and the access log."""
    entry = ledger(request)
    entry.model = body.get("model") if isinstance(body.get("model"), str) else None
    entry.dropped = dropped
    entry.repairs = repairs


def json_response(body: Any, upstream_headers: Mapping[str, str]) -> web.Response:
    """A translated JSON answer with Mistral's rate-limit headers (also under OpenAI's names).

    The edges middleware adds the shim's own headers (``Ledger.headers``) as the answer leaves.
    """
    headers = errors.openai_rate_limit_headers(upstream_headers)
    headers["Content-Type"] = "application/json"
    return web.Response(body=dumps(body), headers=headers)


def _forwarded(request: web.Request, has_body: bool = True) -> dict[str, str]:
    sent = {"Content-Type": "application/json"} if has_body else {}
    sent.update({name: request.headers[name] for name in FORWARDED if name in request.headers})
    return sent


async def fetch_json(
    request: web.Request, method: str, path: str, body: Mapping[str, Any] | None = None
) -> tuple[Any, Mapping[str, str]]:
    """One non-streamed upstream call: Mistral's JSON and headers, or the OpenAI error (raised).

    A 200 whose body is not JSON is a broken gateway, answered 502.
    """
    entry = ledger(request)
    started = time.monotonic()
    try:
        async with upstream(request).request(
            method,
            path,
            client_bearer=entry.client_bearer,
            body=None if body is None else dumps(body),
            headers=_forwarded(request, body is not None),
        ) as (response, _):
            entry.upstream_status = response.status
            if response.status != 200:
                raise await error_from(response)
            raw = await upstream(request).read(response)
            try:
                return jsonio.loads(raw), response.headers.copy()
            except ValueError:
                raise server_error(
                    502, "Mistral answered 200 with a body that is not JSON.", "upstream_bad_body"
                ) from None
    finally:
        entry.upstream_seconds += time.monotonic() - started


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
    if body.get("stream") is not True:
        data, upstream_headers = await fetch_json(request, "POST", path, body)
        return json_response(answer(data), upstream_headers)
    entry = ledger(request)
    started = time.monotonic()
    async with upstream(request).request(
        "POST",
        path,
        client_bearer=entry.client_bearer,
        body=dumps(body),
        headers=_forwarded(request),
        stream=True,
    ) as (response, waited):
        entry.upstream_status = response.status
        if response.status != 200:
            error = await error_from(response)
            entry.upstream_seconds += time.monotonic() - started
            raise error
        entry.upstream_seconds += waited
        if response.content_type != relay.MEDIA_TYPE:  # a gateway's page, or JSON: not a stream to relay
            raise server_error(
                502,
                f"Mistral answered a stream request with {response.content_type!r}, not an event stream.",
                "upstream_bad_stream",
            )
        translator = stream_translator()
        # A stream sends its headers before the middleware sees it: the shim's own go with Mistral's.
        headers = {**entry.headers(), **errors.openai_rate_limit_headers(response.headers)}
        return await relay.relay(request, response, headers, translator.feed, translator.finish)
