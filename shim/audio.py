"""``POST /v1/audio/transcriptions`` and ``/v1/audio/translations``: the calls (the translation is
``shim.translate.audio``; speech is a plain translated route, ``shim.pipeline``).

A transcription's form is read as it arrives: its fields are translated, its audio streamed to Mistral
untouched. Mistral answers JSON, rendered in the format the client asked for, or a stream, relayed event by
event as OpenAI's transcript events.
"""

from collections.abc import Iterable
from typing import Any

from aiohttp import web

from mistral_wire import sse
from shim import answers, pipeline
from shim.exchange import Exchange
from shim.files import form_limits
from shim.forms import ClientForm, MistralForm, file_then_fields
from shim.keys import CREDENTIAL, SETTINGS, UPSTREAM
from shim.relay import Relay
from shim.translate import audio, errors, forms
from shim.translate.audio import TranscriptionPlan
from shim.translate.plan import Raw
from shim.translate.problem import server_error
from shim.translate.table import refuse
from shim.upstream import error_body


async def transcribe(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """OpenAI's transcription form → Mistral's (the audio streamed), its answer in the asked format."""
    options = request.app[SETTINGS].options
    form = ClientForm(request, form_limits(request))
    await form.open()
    leading = forms.fold(await form.fields())
    audio.check_transcription_fields(forms.coerce(audio.TRANSCRIPTION_TABLE, leading), options)
    if form.file is None:
        raise refuse("you must provide a file parameter.", "file")
    mistral = MistralForm()
    planned: list[TranscriptionPlan] = []

    def fields(folded: dict[str, Any]) -> Iterable[tuple[str, str]]:
        plan = audio.plan_transcription(forms.coerce(audio.TRANSCRIPTION_TABLE, folded), options)
        planned.append(plan)
        exchange.dropped = plan.dropped
        return plan.fields

    upstream = request.app[UPSTREAM]
    headers = {"Content-Type": mistral.content_type, **pipeline.forwarded(request)}
    body = file_then_fields(mistral, form, leading, fields)
    async with upstream.request(
        "POST", audio.TRANSCRIPTIONS_PATH, client_bearer=request[CREDENTIAL], body=body, headers=headers
    ) as (response, waited):
        exchange.upstream_status = response.status
        exchange.upstream_seconds += waited
        if response.status != 200:
            raise errors.from_mistral(response.status, await error_body(response), response.headers)
        if not planned:  # Mistral answered before the form was sent whole: nothing to translate
            raise server_error(502, "Mistral answered before the upload ended.", "upstream_bad_response")
        plan = planned[0]
        if response.content_type == sse.MEDIA_TYPE:
            relayed = {**exchange.headers(), **errors.openai_rate_limit_headers(response.headers)}
            keep_copy = request.app[SETTINGS].log_bodies
            relay = Relay(request, response, relayed, plan.stream(), exchange.request_id, keep_copy)
            try:
                return await relay.run()
            finally:
                exchange.upstream_seconds += relay.waited
        payload = plan.render(pipeline.json_body(await upstream.read(response)))
        if isinstance(payload, Raw):
            return answers.raw_response(payload, response.headers)
        return answers.json_response(payload, response.headers)


async def translate(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """``POST /v1/audio/translations``: refused, Mistral has no such job (the body is not read)."""
    raise audio.translations_refused()
