"""One request to the mock, one way through: the contract's verdict, then the mode's sources, in order.

The edges (``mockserver.edges``) have let the request in. Here its body is read and judged by Mistral's
contract (``validation``, the same in every mode, cached as a value), and the mode's sources are asked in
turn until one answers (``mockserver.sources``): fixtures, recordings, the upstream, the generator. Each
answers through the one renderer (``render``). Nothing in ``sources`` or ``recording`` calls back here.
"""

from aiohttp import web

from mistral_wire.contract.errors import no_route
from mockserver import forms
from mockserver.cache import LRU
from mockserver.chain import Current
from mockserver.edges import base_headers
from mockserver.faults import NONE
from mockserver.forms import Form
from mockserver.keys import API_KEY, ARRIVED, FAULT, FILES, LIMITER, REQUEST_ID, SETTINGS, WARM
from mockserver.sources import Call
from mockserver.validation import FORM_PATHS, Incoming, Verdict, judge

VERDICTS = 2048
MAX_CACHED_BODY = 256 * 1024


class Pipeline:
    def __init__(self, current: Current) -> None:
        # The chain of sources, read once per request: a switch never changes a request in flight.
        self.current = current
        self._verdicts: LRU[tuple[str, str, str, str | None, bytes], Verdict] = LRU(VERDICTS)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        chain = self.current.chain
        if chain.generates:
            # The tokenizer may still be loading in its thread: wait for that load rather than start a
            # second one on the loop. A replaying chain never waits for it.
            await request.app[WARM].ready()
        settings = chain.settings
        form: Form | None = None
        if request.method == "POST" and request.path in FORM_PATHS:
            # A form's file parts go to disk as they arrive; the body is never held whole.
            form = await forms.read(request, request.app[FILES].spool, settings.max_file_bytes)
            raw = b""
        else:
            raw = await request.read()
        try:
            call = Call(
                request=request,
                raw=raw,
                verdict=self._verdict(request, raw, form),
                settings=settings,
                limiter=request.app[LIMITER],
                key=request.get(API_KEY, ""),
                headers=base_headers(request),
                arrived=request[ARRIVED],
                fault=request.get(FAULT, NONE),
                form=form,
            )
            for source in chain.sources:
                response = await source.answer(call)
                if response is not None:
                    return response
            raise no_route(request[REQUEST_ID])
        finally:
            if form is not None:
                form.discard()

    def _verdict(self, request: web.Request, raw: bytes, form: Form | None) -> Verdict | None:
        content_type = request.headers.get("Content-Type")
        if form is not None:
            return judge(_incoming(request, raw, content_type, form), request.app[SETTINGS].validation_shape)
        key = (request.method, request.path, request.rel_url.raw_query_string, content_type, raw)
        cacheable = len(raw) <= MAX_CACHED_BODY
        verdict = self._verdicts.get(key) if cacheable else None
        if verdict is None:
            verdict = judge(_incoming(request, raw, content_type), request.app[SETTINGS].validation_shape)
            if verdict is not None and cacheable:
                self._verdicts.put(key, verdict)
        return verdict


def _incoming(
    request: web.Request, raw: bytes, content_type: str | None, form: Form | None = None
) -> Incoming:
    """The request as the contract judges it (built only when the verdict is not cached: a replayed suite
    asks the same questions again and again)."""
    query = {name: request.query.getall(name) for name in request.query}
    return Incoming(request.method, request.path, query, raw, content_type, form)
