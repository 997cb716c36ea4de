"""The synthetic source's audio routes: transcription and speech, their disk and CPU work in threads.

A transcription first finds its audio: the form's file part (on disk already), an uploaded file
(``file_id``), or a ``file_url``. The mock is offline and fetches no URL: a signed URL of its own files
reads that file; any other URL stands for an audio of 5 to 30 seconds drawn from the URL (an assumption the
answer cannot reveal). The audio's length is read with mutagen (``mockserver.media``); bytes mutagen
cannot read as audio are refused with a 400, as a service that cannot decode them would (the mock's
wording: no recording shows that refusal). The transcript is keyed on the audio's MD5, so a file sent
inline or uploaded first is transcribed the same.
"""

import functools
import hashlib
from pathlib import Path
from urllib.parse import urlparse

from aiohttp import web

from mistral_wire.contract.audio import AudioTranscriptionRequest, SpeechRequest
from mistral_wire.contract.errors import invalid_request, not_found, rate_limited
from mockserver import media, render
from mockserver.jobs.files import FileStore
from mockserver.jobs.threads import in_thread
from mockserver.keys import FILES
from mockserver.ratelimit import retry_seconds
from mockserver.sources import Call
from mockserver.sources.synthetic import speech as speech_synth
from mockserver.sources.synthetic import transcription as transcription_synth
from mockserver.validation import Accepted

ROUTES = frozenset({"/v1/audio/transcriptions", "/v1/audio/speech"})
SIGNED = "/signed/files/"
UNREADABLE = "The audio file could not be decoded"


def _stored(store: FileStore, file_id: str) -> tuple[Path, str]:
    stored = store.get(file_id)
    if stored is None:
        raise not_found("File not found")
    return store.path(file_id), stored.signature or file_id


def _audio(call: Call, request: AudioTranscriptionRequest) -> tuple[Path | None, str, float | None]:
    """Where the audio is, its digest, and (for a URL the mock cannot fetch) its stand-in length."""
    store = call.request.app[FILES]
    if request.file is not None:
        assert call.form is not None
        upload = call.form.upload(request.file)
        return upload.path, upload.md5, None
    if request.file_id is not None:
        return (*_stored(store, request.file_id), None)
    url = str(request.file_url or "")
    path = urlparse(url).path
    if path.startswith(SIGNED):
        return (*_stored(store, path.removeprefix(SIGNED)), None)
    digest = hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()
    return None, digest, 5 + int(digest[:8], 16) % 2500 / 100


async def transcribe(call: Call, accepted: Accepted) -> web.StreamResponse:
    request = accepted.request
    assert isinstance(request, AudioTranscriptionRequest)
    path, digest, seconds = _audio(call, request)
    if path is not None:
        seconds = await in_thread(functools.partial(media.duration, path))
    if seconds is None:
        raise invalid_request(UNREADABLE)
    body = await in_thread(
        functools.partial(transcription_synth.answer, request, accepted.family, seconds, digest)
    )
    headers = _spend(call, body["usage"]["total_tokens"])
    if not request.stream:
        return render.json(body, headers)
    return await _stream(call, transcription_synth.events(body, request.language), headers)


async def speak(call: Call, accepted: Accepted) -> web.StreamResponse:
    request = accepted.request
    assert isinstance(request, SpeechRequest)
    audio, usage = await in_thread(functools.partial(speech_synth.speak, request))
    headers = _spend(call, usage["total_tokens"])
    if not request.stream:
        return render.json(speech_synth.body(audio), headers)
    return await _stream(call, speech_synth.events(audio, usage), headers)


def _spend(call: Call, cost: int) -> dict[str, str]:
    wait = call.limiter.admit_tokens(call.key, cost)
    if wait:
        raise rate_limited(retry_seconds(wait), call.settings.rate_limit_shape)
    return {**call.tagged("synthetic"), **call.limiter.headers(call.key, cost)}


async def _stream(call: Call, events: list[bytes], headers: dict[str, str]) -> web.StreamResponse:
    """Mistral's audio events: each with its ``event:`` line, and no ``[DONE]`` after the last."""
    fault = call.fault
    chunk_ms = fault.chunk_ms if fault.chunk_ms is not None else call.settings.chunk_ms
    return await render.stream(
        call.request,
        render.evenly(events, (fault.ttft_ms or 0) / 1000, chunk_ms / 1000),
        {**headers, "Cache-Control": "no-cache"},
        disconnect_after=fault.disconnect_after,
    )


async def answer(call: Call, accepted: Accepted) -> web.StreamResponse:
    handler = transcribe if accepted.path == "/v1/audio/transcriptions" else speak
    return await handler(call, accepted)
