"""One translated request, one way through: body within limits → plan → Mistral → answer, and its record.

Every translated route (chat, legacy completions, embeddings, models) is an ``Endpoint``: how to turn the
client's request into a ``Plan`` (pure, in ``shim.translate``), and which tokenizer the plan counts with, so
it is loaded in a thread before the plan is made. (The shim loads a tokenizer the first time a request needs
one rather than at startup: tekken alone holds 110 MB, which a shim that never embeds would carry for
nothing; meanwhile every other request and stream goes on.) This module does the rest, the same for every
route: reads and parses the body, sends the plan's requests (several at once for a split batch), turns
Mistral's refusals into OpenAI's, and relays a stream event by event. It returns the answer with its
``Exchange`` record (what was dropped, repaired, how long Mistral took), which nothing else writes.
"""

import asyncio
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mistral_wire import jsonio, sse, tokens
from mistral_wire.contract.catalogue import Tokenizer
from shim import answers, body
from shim.exchange import EXCHANGE, Exchange, begin
from shim.keys import CREDENTIAL, SETTINGS, UPSTREAM
from shim.relay import ClientGone, Relay
from shim.translate import errors, models
from shim.translate.context import Options
from shim.translate.plan import Plan, Raw
from shim.translate.problem import OpenAIError, server_error
from shim.upstream import UpstreamFailure, error_body

# Client headers a translated request carries upstream. Everything else the client sent (its SDK's
# x-stainless-* headers, cookies, its key) stays here; ``x-mock-fault`` lets tests drive the mock's faults
# through the shim and means nothing to Mistral.
FORWARDED = ("x-mock-fault",)


@dataclass(frozen=True)
class Endpoint:
    """A translated route: its plan, and what must be ready before the plan is made."""

    plan: Callable[[Mapping[str, Any], Options], Plan]
    # False for a GET: the plan is made from the path's parameters.
    reads_body: bool = True
    # The tokenizer the plan counts tokens with, loaded in a thread first (embeddings batches).
    tokenizer: Callable[[Mapping[str, Any], Options], Tokenizer | None] | None = None
    # A plan that needs more than the body (the Responses API's store): made by this coroutine instead of
    # ``plan``, which it may call itself.
    prepare: Callable[[web.Request, dict[str, Any]], Awaitable[Plan]] | None = None


def handler(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of a translated route."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await run(request, endpoint)

    return handle


async def run(request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
    """Answer one request; the answer carries its ``Exchange`` (``EXCHANGE``) for the edges."""
    exchange = begin(request)
    try:
        response = await _run(request, endpoint, exchange)
    except OpenAIError as error:
        response = answers.error_response(error)
        if request.app[SETTINGS].log_bodies:
            exchange.response_body = response.body if isinstance(response.body, bytes) else None
    except ClientGone as gone:
        response = gone.response
        exchange.client_gone = True
    response[EXCHANGE] = exchange
    return response


async def _run(request: web.Request, endpoint: Endpoint, exchange: Exchange) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    options = settings.options
    if endpoint.reads_body:
        inputs: dict[str, Any] = await read_object(request, exchange)
        model = inputs.get("model")
    else:
        inputs = dict(request.match_info)
        model = inputs.get("model_id")
    exchange.model = model if isinstance(model, str) else None
    if endpoint.tokenizer is not None:
        kind = endpoint.tokenizer(inputs, options)
        if kind is not None:
            await tokens.ready(kind)
    if endpoint.prepare is not None:
        plan = await endpoint.prepare(request, inputs)
    else:
        plan = endpoint.plan(inputs, options)
    plan = models.echoing_alias(plan, model, options)
    exchange.dropped, exchange.repairs = plan.dropped, plan.repairs
    if isinstance(model, str):
        exchange.mistral_model = models.resolve_model(model, options.aliases)
    if plan.stream is not None:
        return await _stream(request, plan, exchange)
    started = time.monotonic()
    try:
        # A TaskGroup, not gather(): when one part fails the others are cancelled, not left running.
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_fetch(request, plan, part, exchange)) for part in plan.bodies]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    finally:
        # The parts ran side by side: the time spent upstream is the wall time, not the sum.
        exchange.upstream_seconds += time.monotonic() - started
    results = [task.result() for task in tasks]
    payload = plan.answer([data for data, _ in results])
    if plan.settle is not None:
        await plan.settle()
    if isinstance(payload, Raw):
        return answers.raw_response(payload, results[-1][1])
    answer = answers.json_response(payload, results[-1][1])
    if settings.log_bodies and isinstance(answer.body, bytes):
        exchange.response_body = answer.body
    return answer


async def read_object(request: web.Request, exchange: Exchange | None = None) -> dict[str, Any]:
    """The request's JSON object, within the configured limits (OpenAI's 4xx otherwise)."""
    settings = request.app[SETTINGS]
    raw = await body.read(request, _limits(request))
    if exchange is not None and settings.log_bodies and raw:
        exchange.request_body = raw
    return body.parse_object(raw, request.headers.get("Content-Type"), settings.max_json_depth)


def _limits(request: web.Request) -> body.Limits:
    settings = request.app[SETTINGS]
    return body.Limits(
        settings.max_body_bytes, settings.max_body_mb, settings.client_timeout, settings.max_json_depth
    )


def forwarded(request: web.Request) -> dict[str, str]:
    """The client's headers a translated request carries upstream (``FORWARDED``)."""
    return {name: request.headers[name] for name in FORWARDED if name in request.headers}


def _headers(request: web.Request, has_body: bool) -> dict[str, str]:
    sent = {"Content-Type": "application/json"} if has_body else {}
    sent.update(forwarded(request))
    return sent


async def _fetch(
    request: web.Request, plan: Plan, part: Mapping[str, Any] | None, exchange: Exchange
) -> tuple[Any, Mapping[str, str]]:
    """One non-streamed upstream call: Mistral's JSON and headers, or the OpenAI error (raised)."""
    body = None if part is None else jsonio.dumps(part)
    # The caller times the parts together: they run side by side.
    return await call_json(request, exchange, plan.method, plan.path, body=body, timed=False)


async def call_json(
    request: web.Request,
    exchange: Exchange,
    method: str,
    path: str,
    *,
    body: bytes | AsyncIterable[bytes] | None = None,
    content_type: str = "application/json",
    query: str = "",
    timed: bool = True,
) -> tuple[Any, Mapping[str, str]]:
    """One upstream call answered with JSON: Mistral's JSON and headers, or the OpenAI error (raised).

    ``body`` may be a stream (an upload relayed as it arrives); when the stream itself fails with an
    ``OpenAIError`` (a refusal found half-way), that error is raised. A 200 whose body is not JSON is a
    broken gateway, answered 502. With ``timed``, the call's time counts as time spent upstream.
    """
    upstream = request.app[UPSTREAM]
    started = time.monotonic()
    headers = _headers(request, False)
    if body is not None:
        headers["Content-Type"] = content_type
    try:
        async with upstream.request(
            method, path, client_bearer=request[CREDENTIAL], body=body, headers=headers, query=query
        ) as (response, _):
            exchange.upstream_status = response.status
            if response.status != 200:
                raw = await error_body(response)
                raise errors.from_mistral(response.status, raw, response.headers)
            return json_body(await upstream.read(response)), response.headers.copy()
    except UpstreamFailure as failure:
        raise translated_failure(failure) from None
    finally:
        if timed:
            exchange.upstream_seconds += time.monotonic() - started


def json_body(raw: bytes) -> Any:
    """Mistral's 200 answer as JSON; one that is not JSON is a broken gateway, answered 502."""
    try:
        return jsonio.loads(raw)
    except ValueError:
        raise server_error(
            502, "Mistral answered 200 with a body that is not JSON.", "upstream_bad_body"
        ) from None


def translated_failure(failure: UpstreamFailure) -> OpenAIError:
    """OpenAI's error for an upstream that could not be used: the refusal a streamed body raised half-way
    (it aborted the request), or the transport's failure."""
    if isinstance(failure.__cause__, OpenAIError):
        return failure.__cause__
    return errors.from_transport(failure.kind, failure.detail, failure.seconds)


Work = Callable[[web.Request, Exchange], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def guarded(work: Work) -> Handler:
    """The handler of a route whose work is not one plan (an upload streamed to Mistral, a download
    translated as it streams, a batch made of several calls): the same record and the same refusals as
    every translated route."""

    async def handle(request: web.Request) -> web.StreamResponse:
        exchange = begin(request)
        try:
            try:
                response = await work(request, exchange)
            except UpstreamFailure as failure:
                raise translated_failure(failure) from None
        except OpenAIError as error:
            response = answers.error_response(error)
        except ClientGone as gone:
            response = gone.response
            exchange.client_gone = True
        response[EXCHANGE] = exchange
        return response

    return handle


async def _stream(request: web.Request, plan: Plan, exchange: Exchange) -> web.StreamResponse:
    """POST the one body and relay Mistral's stream through the plan's translator."""
    assert plan.stream is not None
    started = time.monotonic()
    upstream = request.app[UPSTREAM]
    try:
        async with upstream.request(
            "POST",
            plan.path,
            client_bearer=request[CREDENTIAL],
            body=jsonio.dumps(plan.bodies[0]),
            headers=_headers(request, True),
            stream=True,
        ) as (response, waited):
            exchange.upstream_status = response.status
            if response.status != 200:
                raw = await error_body(response)
                exchange.upstream_seconds += time.monotonic() - started
                raise errors.from_mistral(response.status, raw, response.headers)
            exchange.upstream_seconds += waited
            if response.content_type != sse.MEDIA_TYPE:  # a gateway's page, or JSON: not a stream to relay
                raise server_error(
                    502,
                    f"Mistral answered a stream request with {response.content_type!r}, not an event stream.",
                    "upstream_bad_stream",
                )
            # A stream sends its headers before the edges see it: the shim's own go with Mistral's.
            headers = {**exchange.headers(), **errors.openai_rate_limit_headers(response.headers)}
            keep_copy = request.app[SETTINGS].log_bodies
            relay = Relay(
                request,
                response,
                headers,
                plan.stream(),
                exchange.request_id,
                keep_copy,
                framing=plan.framing,
                settle=plan.settle,
            )
            try:
                return await relay.run()
            finally:
                exchange.upstream_seconds += relay.waited
                exchange.response_body = relay.sink.copy
    except UpstreamFailure as failure:
        raise errors.from_transport(failure.kind, failure.detail, failure.seconds) from None
