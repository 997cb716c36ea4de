"""One request to the mock, one way through: the contract's verdict, then the mode's sources, in order.

The edges (``mockserver.edges``) have let the request in. Here its body is read and judged by Mistral's
contract (``validation``, the same in every mode, cached as a value), and the mode's sources are asked in
turn until one answers (``mockserver.sources``): fixtures, recordings, the upstream, the generator. Each
answers through the one renderer (``render``). Nothing in ``sources`` or ``recording`` calls back here.
"""

import asyncio

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
        warm = request.app.get(WARM)
        if warm is not None and not warm.done():
            # The tokenizers are still loading in the background: wait for that load (without blocking the
            # loop) rather than start a second one on it.
            await asyncio.shield(warm)
        chain = self.current.chain
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
        shape = request.app[SETTINGS].validation_shape
        query = {name: request.query.getall(name) for name in request.query}
        incoming = Incoming(request.method, request.path, query, raw, content_type, form)
        if form is not None:
            return judge(incoming, shape)  # a form is judged once: its files are this request's own
        key = (request.method, request.path, request.rel_url.raw_query_string, content_type, raw)
        cacheable = len(raw) <= MAX_CACHED_BODY
        verdict = self._verdicts.get(key) if cacheable else None
        if verdict is None:
            verdict = judge(incoming, shape)
            if verdict is not None and cacheable:
                self._verdicts.put(key, verdict)
        return verdict
