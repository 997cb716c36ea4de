"""The synthetic source: answers generated from the request, deterministic per request, in Mistral's shapes.

Identical bodies get identical answers, so computed answers are kept (bounded, values only: an answer, or
the rendered refusal of a document Mistral could not fetch) and the same request twice costs one
generation.
"""

import random
import time

from aiohttp import web

from mistral_wire.contract import catalogue
from mistral_wire.contract.errors import MistralError, envelope, rate_limited
from mockserver import render
from mockserver.cache import LRU
from mockserver.ratelimit import retry_seconds
from mockserver.render import Rendered
from mockserver.sources import Call
from mockserver.sources.synthetic import audio
from mockserver.sources.synthetic import chat as chat_synth
from mockserver.sources.synthetic import responses as responses_synth
from mockserver.sources.synthetic.answers import POST_ROUTES, Outcome
from mockserver.validation import Accepted, Refused

CACHE_SIZE = 2048
CACHE_MAX_BODY = 256 * 1024
MODELS_PREFIX = "/v1/models/"


class SyntheticSource:
    def __init__(self) -> None:
        self._answers: LRU[tuple[str, str | None, bytes], Outcome | Rendered] = LRU(CACHE_SIZE)

    async def answer(self, call: Call) -> web.StreamResponse | None:
        if call.method == "GET":
            return self._models(call)
        verdict = call.verdict
        if verdict is None:
            return None
        if isinstance(verdict, Refused):
            return call.refuse(verdict.refusal)
        if not isinstance(verdict, Accepted):
            return None
        if verdict.path in audio.ROUTES:
            return await audio.answer(call, verdict)
        outcome = self._outcome(call, verdict)
        if isinstance(outcome, Rendered):
            return call.refuse(outcome, "synthetic")
        wait = call.limiter.admit_tokens(call.key, outcome.cost)
        if wait:
            raise rate_limited(retry_seconds(wait), call.settings.rate_limit_shape)
        headers = {**call.tagged("synthetic"), **call.limiter.headers(call.key, outcome.cost)}
        created = int(time.time())
        if not outcome.stream:
            return render.json(outcome.json(created), headers)
        return await stream(call, outcome, created, headers)

    def _outcome(self, call: Call, verdict: Accepted) -> Outcome | Rendered:
        key = (call.path, call.request.headers.get("Content-Type"), call.raw)
        cacheable = len(call.raw) <= CACHE_MAX_BODY
        cached = self._answers.get(key) if cacheable else None
        if cached is not None:
            return cached
        outcome: Outcome | Rendered
        try:
            outcome = POST_ROUTES[verdict.path](verdict)
        except MistralError as error:  # an answer-time refusal (an OCR document that cannot be fetched)
            outcome = Rendered.of(error, call.settings.validation_shape)
        if cacheable:
            self._answers.put(key, outcome)
        return outcome

    def _models(self, call: Call) -> web.Response | None:
        created = int(time.time())
        headers = {**call.tagged("synthetic"), **call.limiter.headers(call.key)}
        if call.path == "/v1/models":
            cards = [card.render(created) for card in catalogue.cards()]
            return render.json({"object": "list", "data": cards}, headers)
        if not call.path.startswith(MODELS_PREFIX):
            return None
        model_id = call.path[len(MODELS_PREFIX) :]
        family = catalogue.lookup(model_id)
        if family is None:
            # Undocumented on the live API; answered like an unknown model elsewhere, with a 404.
            body = envelope(f"Invalid model: {model_id}", "invalid_model", "1500", raw_status_code=404)
            raise MistralError(404, body)
        return render.json(catalogue.Card(model_id, family).render(created), headers)


async def stream(
    call: Call, outcome: Outcome, created: int, headers: dict[str, str], chunk_ms: int | None = None
) -> web.StreamResponse:
    """A chat or FIM answer as Mistral's stream: the role chunk, token-sized deltas, usage on the last; a
    Responses answer as its named events, without ``[DONE]``.

    Events are paced by the ``x-mock-fault`` header's ``ttft_ms``/``chunk_ms``, else by ``chunk_ms`` (an
    authored answer's), else by ``--chunk-ms``. Authored answers stream through here too.
    """
    if outcome.reply is not None:
        # Named events and no [DONE]; the live API's "p" padding is a chat-chunk field.
        events = [
            render.encode_event(name, data) for name, data in responses_synth.events(outcome.reply, created)
        ]
    else:
        assert outcome.answer is not None
        padding = random.Random(outcome.answer.id) if call.settings.padding else None
        events = [render.encode(chunk) for chunk in chat_synth.chunks(outcome.answer, created, padding)]
        events.append(render.DONE)
    fault = call.fault
    if fault.chunk_ms is not None:
        chunk_ms = fault.chunk_ms
    elif chunk_ms is None:
        chunk_ms = call.settings.chunk_ms
    return await render.stream(
        call.request,
        render.evenly(events, (fault.ttft_ms or 0) / 1000, chunk_ms / 1000),
        {**headers, "Cache-Control": "no-cache"},
        disconnect_after=fault.disconnect_after,
    )
