"""The Responses API's routes, and the store they share.

``POST /v1/responses`` goes through the pipeline like every translated route; what it needs beyond its body
is prepared here, before the plan is made: the stored chain behind ``previous_response_id`` (one query,
oldest first), the items ``item_reference``\\ s name, and, when the input may not fit the model's context,
its token count (in a thread, with Mistral's tokenizer).

Once Mistral's answer is complete the response is written to the store whole, beside the answer rather than
before it: the write starts as the last bytes go out and neither the answer nor a stream's events wait for
it. A client may still continue the response at once: a lookup in this shim of a response whose write is
in flight waits for that write (``Writes``), and one that finds nothing (the write may be in flight in
another shim sharing the store) looks again twice, briefly, before answering that the response does not
exist. A shim that stops finishes its writes before it closes the store.

The other routes read the store only: retrieve (also as a replayed stream), delete, the input items, cancel,
and the input token count. Every lookup is scoped to the owner of the credential the request presents
(``owner_of``): with client keys (``--api-key``) the client key, else the client's bearer. Another
credential's response is simply absent (404, or 400 for ``previous_response_id``), and nothing of it
reaches Mistral.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final, TypeVar

from aiohttp import web

from mistral_wire import jsonio, sse, tokens
from mistral_wire.http import bearer
from mistral_wire.scrub import shown_url
from shim import pipeline
from shim.keys import CREDENTIAL, SETTINGS, STORE
from shim.pipeline import Endpoint
from shim.settings import ShimSettings
from shim.store import ResponseStore, StoredResponse, factory
from shim.store.purging import purging
from shim.translate import responses
from shim.translate.plan import Plan
from shim.translate.problem import OpenAIError
from shim.translate.responses import count, ids, items, stream
from shim.translate.responses.request import ResponsesRequest, conversation, translate_request
from shim.translate.table import check_types

log = logging.getLogger("shim")
DAY: Final = 86400.0
GRACE: Final = (0.02, 0.1)
"""Seconds to wait before looking again for a response not found (another shim may be writing it)."""
T = TypeVar("T")
LIMITS: Final = (1, 100)
DEFAULT_LIMIT: Final = 20


# --- the store's life with the app -----------------------------------------------------------------------


class Writes:
    """The responses this shim is writing: a lookup of one of them waits for its write first."""

    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Task[None]] = {}

    def start(self, store: ResponseStore, record: StoredResponse) -> None:
        task = asyncio.create_task(self._put(store, record), name=f"store {record.id}")
        self._pending[record.id] = task
        task.add_done_callback(lambda _: self._pending.pop(record.id, None))

    @staticmethod
    async def _put(store: ResponseStore, record: StoredResponse) -> None:
        try:
            await store.put(record)
        except Exception:  # the client has its answer; only its continuation is lost, and said so here
            log.exception("storing response %s failed", record.id)

    async def settled(self, *response_ids: str) -> None:
        """Return once the writes of these responses (of every pending one, when none is named) are done.
        Shielded: a waiter that is cancelled (its client left) never cancels a write."""
        tasks = [self._pending[i] for i in response_ids if i in self._pending] if response_ids else None
        for task in tasks if tasks is not None else list(self._pending.values()):
            await asyncio.shield(task)


WRITES = web.AppKey("responses_writes", Writes)


def setup(app: web.Application, settings: ShimSettings) -> None:
    """Open the store the settings name, start it with the app, purge it (at once, then hourly), finish
    its writes and close it at the end."""
    app[STORE] = factory.open_store(settings.store_url)
    app[WRITES] = Writes()
    app.cleanup_ctx.append(_lifetime)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    store, url = app[STORE], app[SETTINGS].store_url
    await factory.start(store, url)
    log.info("responses store: %s", shown_url(url))
    async with purging(store):
        yield
    await app[WRITES].settled()
    await store.close()


async def _with_grace(look: Callable[[], Awaitable[T | None]]) -> T | None:
    """``look()``, and when it finds nothing, again after each ``GRACE`` pause: a response another shim
    is writing at this moment appears within milliseconds."""
    found = await look()
    for pause in GRACE:
        if found is not None:
            break
        await asyncio.sleep(pause)
        found = await look()
    return found


# --- who owns what ------------------------------------------------------------------------------------------


def credential_of(request: web.Request) -> str:
    """The credential a stored response belongs to: the bearer forwarded to Mistral, or (when the shim uses
    its own key) the client key presented; a keyless local client of a shim with its own key gets ``""``."""
    return request[CREDENTIAL] or bearer(request.headers) or ""


async def _owner(request: web.Request) -> str:
    return await request.app[STORE].owner_of(credential_of(request))


def not_found(response_id: str) -> OpenAIError:
    return OpenAIError(
        404, f"Response with id '{response_id}' not found.", param="response_id", code="not_found"
    )


def previous_not_found(response_id: Any) -> OpenAIError:
    return OpenAIError(
        400,
        f"Previous response with id '{response_id}' not found.",
        param="previous_response_id",
        code="previous_response_not_found",
    )


# --- POST /v1/responses -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """What the store holds for one request: the chain's items and the referenced items."""

    history: list[dict[str, Any]] = field(default_factory=list)
    found: dict[str, dict[str, Any]] = field(default_factory=dict)


async def _translate(request: web.Request, body: dict[str, Any]) -> tuple[ResponsesRequest, str | None]:
    """The request translated with what the store holds for it, fitted to the model's context; the owner
    (None when the store was not needed)."""
    options = request.app[SETTINGS].options
    store = request.app[STORE]
    check_types(responses.request.TABLE, body)
    own = items.parse_input(body.get("input"))
    previous = body.get("previous_response_id")
    wanted = items.references(own)
    needed = previous is not None or wanted or body.get("store") is not False
    owner = await _owner(request) if needed else None
    held = _Found()
    if previous is not None and owner is not None:
        await request.app[WRITES].settled(previous)
        history = await _with_grace(lambda: store.history(owner, previous))
        if history is None:
            raise previous_not_found(previous)
        held.history.extend(history)  # translate_request copies what it changes
    if wanted:
        await request.app[WRITES].settled()
    for item_id in wanted:
        stored = await store.item(owner or "", item_id)
        if stored is not None:
            held.found[item_id] = dict(stored)

    def translate(drop_first: int = 0) -> ResponsesRequest:
        return translate_request(
            body,
            options,
            response_id=response_id,
            created_at=created_at,
            history=held.history,
            found=held.found,
            drop_first=drop_first,
        )

    response_id, created_at = ids.new_response_id(), int(time.time())
    return await _fit(translate(), body, held, translate), owner


async def _fit(
    translated: ResponsesRequest,
    body: dict[str, Any],
    held: _Found,
    translate: Callable[[int], ResponsesRequest],
) -> ResponsesRequest:
    """The request, cut to the model's context by ``truncation: "auto"``, or OpenAI's 400 when it does not
    fit and truncation is disabled. Counted (in a thread) only when the cheap bound says it might not fit."""
    model = translated.body.get("model")
    window = count.context_of(model)
    if window is None:
        return translated  # a model the catalogue does not know: Mistral judges
    budget = window - int(translated.body.get("max_tokens") or 0)
    if count.upper_bound(translated.body) <= budget:
        return translated
    kind = count.tokenizer_for(model)
    await tokens.ready(kind)

    def fitted() -> ResponsesRequest:
        total = count.prompt_tokens(translated.body, kind)
        if total <= budget:
            return translated
        if translated.truncation != "auto":
            raise count.context_exceeded()
        every = conversation(body, held.history, held.found)
        costs = [count.item_tokens(item, kind) for item in every]
        start = count.first_kept(every, costs, max(0, total - sum(costs)), budget)
        if start is None:
            raise count.context_exceeded()
        return translate(start)

    return await asyncio.to_thread(fitted)


async def prepare(request: web.Request, body: dict[str, Any]) -> Plan:
    """The pipeline's plan for ``POST /v1/responses``, with the start of the store's write as its
    ``settle`` (the write itself runs beside the answer, see the module docstring)."""
    translated, owner = await _translate(request, body)
    plan, outcome = responses.planned(translated)
    if not translated.store or owner is None:
        return plan
    store = request.app[STORE]
    writes = request.app[WRITES]
    retention = request.app[SETTINGS].responses_retention_days * DAY
    previous = body.get("previous_response_id")

    async def settle() -> None:
        answered = outcome.response
        if answered is None:
            return
        created = float(translated.context.created_at)
        record = StoredResponse(
            id=translated.context.response_id,
            owner=owner,
            created_at=created,
            expires_at=created + retention,
            previous_id=previous if isinstance(previous, str) else None,
            response=answered,
            input_items=translated.input_items,
            output_items=answered["output"],
        )
        writes.start(store, record)

    return replace(plan, settle=settle)


CREATE = Endpoint(responses.plan, prepare=prepare)


# --- the store's routes -------------------------------------------------------------------------------------


async def _stored(request: web.Request) -> StoredResponse:
    response_id = request.match_info["response_id"]
    owner = await _owner(request)
    await request.app[WRITES].settled(response_id)
    record = await _with_grace(lambda: request.app[STORE].get(owner, response_id))
    if record is None:
        raise not_found(response_id)
    return record


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=jsonio.dumps(body), content_type="application/json")


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _integer(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise OpenAIError(
            400, f"{name} must be an integer, not {raw!r}.", param=name, code="invalid_type"
        ) from None


async def retrieve(request: web.Request) -> web.StreamResponse:
    """``GET /v1/responses/{id}``; with ``stream=true``, the stored response replayed as its events."""
    record = await _stored(request)
    if not _flag(request.query.get("stream")):
        return _json(record.response)
    events = stream.replay(record.response, _integer(request, "starting_after", None))
    payload = b"".join(b"event: " + e["type"].encode() + b"\n" + sse.encode_fast(e) for e in events)
    return web.Response(body=payload, headers={"Content-Type": sse.CONTENT_TYPE, "Cache-Control": "no-cache"})


async def delete(request: web.Request) -> web.Response:
    response_id = request.match_info["response_id"]
    await request.app[WRITES].settled(response_id)
    if not await request.app[STORE].delete(await _owner(request), response_id):
        raise not_found(response_id)
    return _json({"id": response_id, "object": "response", "deleted": True})


async def input_items(request: web.Request) -> web.Response:
    """``GET /v1/responses/{id}/input_items``: OpenAI's cursor pages (``after``, ``limit``, ``order``)."""
    response_id = request.match_info["response_id"]
    limit = _integer(request, "limit", DEFAULT_LIMIT)
    if limit is None or not LIMITS[0] <= limit <= LIMITS[1]:
        raise OpenAIError(
            400, f"limit must be between {LIMITS[0]} and {LIMITS[1]}.", param="limit", code="invalid_value"
        )
    order = request.query.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise OpenAIError(400, "order must be 'asc' or 'desc'.", param="order", code="invalid_value")
    await request.app[WRITES].settled(response_id)
    page = await request.app[STORE].input_items(
        await _owner(request),
        response_id,
        after=request.query.get("after"),
        limit=limit,
        descending=order == "desc",
    )
    if page is None:
        raise not_found(response_id)
    data = [dict(item) for item in page.items]
    return _json(
        {
            "object": "list",
            "data": data,
            # An empty page has no first or last item: null, as OpenAI's other lists send it.
            "first_id": data[0].get("id") if data else None,
            "last_id": data[-1].get("id") if data else None,
            "has_more": page.has_more,
        }
    )


async def cancel(request: web.Request) -> web.Response:
    """``POST /v1/responses/{id}/cancel``: only background responses can be cancelled, and the shim runs none
    (``background: true`` is refused), so a stored response is always already finished."""
    record = await _stored(request)
    raise OpenAIError(
        400,
        f"Cannot cancel response '{record.id}': only background responses can be cancelled, and this one has "
        "already finished (the shim runs no background responses).",
        param="response_id",
        code="not_cancellable",
    )


async def input_tokens(request: web.Request) -> web.Response:
    """``POST /v1/responses/input_tokens``: the request's input counted with the model's Mistral tokenizer,
    offline and off the event loop, as ``create`` would send it (history and truncation included)."""
    body = await pipeline.read_object(request)
    translated, _ = await _translate(request, {**body, "store": False})
    kind = count.tokenizer_for(translated.body.get("model"))
    await tokens.ready(kind)
    total = await asyncio.to_thread(count.prompt_tokens, translated.body, kind)
    return _json({"object": "response.input_tokens", "input_tokens": total})
