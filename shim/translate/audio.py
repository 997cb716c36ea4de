"""OpenAI's audio API on Mistral's: transcriptions (Voxtral), speech, and translations (refused).

**Transcriptions.** The form's fields go through one table (``TRANSCRIPTION_FIELDS``) like any body; the
file part streams to Mistral untouched. Mistral answers JSON only (text, language, segments, usage), so
every other format OpenAI offers is built here from Mistral's segments: ``text``, ``srt`` and ``vtt`` as
text, ``verbose_json`` with Whisper's segment shape, ``diarized_json`` with speakers; for those, Mistral is
asked for segment timestamps (and diarization). A stream becomes OpenAI's ``transcript.text.delta`` and
``transcript.text.done`` events (``TranscriptionStream``).

**Speech.** OpenAI's voices are names of its own (``alloy``, ``nova``...), Mistral's are preset slugs
(``en_paul_neutral``): each OpenAI voice reads as Mistral's default preset unless an alias says otherwise
(``--alias alloy=fr_marie_neutral``), and a voice OpenAI does not name, or ``{"id": ...}``, is sent as
Mistral's ``voice_id``. Mistral answers ``{"audio_data": <base64>}``; the client gets the audio bytes with
their content type, as OpenAI sends them, or with ``stream_format: "sse"`` OpenAI's speech events.
"""

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from mistral_wire.contract.audio import AudioTranscriptionRequest, SpeechRequest
from shim.translate import table
from shim.translate.context import Options
from shim.translate.plan import Plan, Raw, StreamTranslation
from shim.translate.problem import OpenAIError, server_error
from shim.translate.table import (
    ARRAY,
    BOOLEAN,
    CHOICE,
    NUMBER,
    OMIT,
    STRING,
    Draft,
    Field,
    Table,
    refuse,
)

TRANSCRIPTIONS_PATH = "/v1/audio/transcriptions"
SPEECH_PATH = "/v1/audio/speech"
TRANSCRIPTION_MODEL: Final = "voxtral-mini-latest"
SPEECH_MODEL: Final = "voxtral-mini-tts-latest"
DEFAULT_VOICE: Final = "en_paul_neutral"
"""The Mistral preset each OpenAI voice reads as, unless an alias maps it: the one preset seen in live
traffic (ruby_llm, 2026-08)."""
TEXT_PLAIN: Final = "text/plain; charset=utf-8"

TRANSCRIPTION_MODELS: Final[dict[str, str]] = {
    name: TRANSCRIPTION_MODEL
    for name in (
        "whisper-1",
        "gpt-transcribe",
        "gpt-4o-transcribe",
        "gpt-4o-mini-transcribe",
        "gpt-4o-mini-transcribe-2025-12-15",
        "gpt-4o-transcribe-diarize",
    )
}
SPEECH_MODELS: Final[dict[str, str]] = {
    name: SPEECH_MODEL for name in ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15")
}
OPENAI_VOICES: Final = frozenset(
    "alloy ash ballad coral echo fable onyx nova sage shimmer verse marin cedar".split()
)

AUDIO_TYPES: Final[dict[str, str | None]] = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
    "aac": None,
}
"""OpenAI's speech formats → the content type of the answer; None: Mistral has no such format (400)."""

LANGUAGES: Final[dict[str, str]] = {
    "en": "english", "fr": "french", "de": "german", "es": "spanish", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "hi": "hindi", "ar": "arabic", "zh": "chinese", "ja": "japanese", "ko": "korean",
    "ru": "russian", "pl": "polish", "tr": "turkish", "sv": "swedish", "da": "danish", "no": "norwegian",
    "fi": "finnish", "cs": "czech", "el": "greek", "he": "hebrew", "hu": "hungarian", "id": "indonesian",
    "ms": "malay", "ro": "romanian", "uk": "ukrainian", "vi": "vietnamese", "th": "thai", "ca": "catalan",
    "bg": "bulgarian", "hr": "croatian", "sk": "slovak", "sl": "slovenian", "sr": "serbian",
    "lt": "lithuanian", "lv": "latvian", "et": "estonian", "fa": "persian", "ur": "urdu", "bn": "bengali",
    "ta": "tamil",
    "te": "telugu", "mr": "marathi", "gu": "gujarati", "kn": "kannada", "ml": "malayalam", "pa": "punjabi",
    "sw": "swahili", "af": "afrikaans", "gl": "galician", "eu": "basque", "cy": "welsh", "is": "icelandic",
    "tl": "tagalog",
}  # fmt: skip
"""ISO-639-1 codes → the English names Whisper's ``verbose_json`` gives as ``language``."""


def _alias(value: Any, options: Options, builtin: Mapping[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    return options.aliases.get(value) or builtin.get(value, value)


# --- transcriptions: the form -------------------------------------------------------------------------------

FORMATS: Final = ("json", "text", "srt", "verbose_json", "vtt", "diarized_json")
SEGMENTED: Final = frozenset({"srt", "vtt", "verbose_json", "diarized_json"})


def _file(value: Any, draft: Draft, options: Options) -> Any:
    return OMIT  # the part is streamed to Mistral as it arrives


def _transcription_model(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["whisper"] = value == "whisper-1"
    return _alias(value, options, TRANSCRIPTION_MODELS)


def _response_format(value: Any, draft: Draft, options: Options) -> Any:
    if value not in FORMATS:
        known = ", ".join(FORMATS)
        raise refuse(f"response_format must be one of {known}, not {value!r}.", "response_format")
    draft.notes["format"] = value
    return OMIT


def _granularities(value: Any, draft: Draft, options: Options) -> Any:
    if not isinstance(value, list) or not all(item in ("word", "segment") for item in value):
        raise refuse("timestamp_granularities[] must be 'word' or 'segment'.", "timestamp_granularities")
    draft.notes["granularities"] = list(dict.fromkeys(value))
    return OMIT


def _languages(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    table.unsupported(
        "languages", "Mistral takes one language hint, not a list", "transcriptions", options, draft
    )
    return OMIT


def _keywords(value: Any, draft: Draft, options: Options) -> Any:
    """Mistral's ``context_bias`` takes single words (``^[^,\\s]+$``): phrases are split into theirs."""
    if not isinstance(value, list):
        return value
    words = [word for item in value if isinstance(item, str) for word in item.replace(",", " ").split()]
    return list(dict.fromkeys(words))


def _stream(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["stream"] = value is True
    return OMIT  # decided by a rule once the model is known (whisper-1 ignores it, as OpenAI's does)


TRANSCRIPTION_FIELDS: dict[str, Field] = {
    "file": Field(
        "keep", "the same part, streamed to Mistral as it arrives", STRING, convert=_file, required=True
    ),
    "model": Field(
        "convert",
        f"whisper-1 and the gpt-*-transcribe models are {TRANSCRIPTION_MODEL}; configured aliases resolve",
        STRING,
        convert=_transcription_model,
        required=True,
    ),
    "language": Field("keep", "the same ISO-639-1 hint", STRING),
    "languages": Field(
        "convert",
        "one language is Mistral's language hint; several are dropped",
        ARRAY,
        convert=_languages,
        target="language",
    ),
    "keywords": Field(
        "rename",
        "Mistral's context_bias, split into single words as it requires",
        ARRAY,
        target="context_bias",
        convert=_keywords,
    ),
    "prompt": Field("drop", "Mistral has no prompt; its context_bias takes single words only", STRING),
    "response_format": Field(
        "convert",
        "Mistral answers JSON: text, srt, vtt, verbose_json and diarized_json are built by the shim from "
        "Mistral's segments, which it is asked for",
        STRING,
        convert=_response_format,
    ),
    "temperature": Field("keep", "the same meaning", NUMBER),
    "include": Field("drop", "Mistral's transcriptions carry no log probabilities", ARRAY, harmless=([],)),
    "timestamp_granularities": Field(
        "keep", "the same values, word and segment", ARRAY, convert=_granularities
    ),
    "stream": Field(
        "convert",
        "Mistral's stream, as OpenAI's transcript events; ignored for whisper-1, as OpenAI ignores it",
        BOOLEAN,
        convert=_stream,
    ),
    "chunking_strategy": Field("drop", "Mistral chooses how to cut the audio", CHOICE, harmless=("auto",)),
    "known_speaker_names": Field(
        "drop", "speaker references are not in Mistral's published transcription API", ARRAY
    ),
    "known_speaker_references": Field(
        "drop", "speaker references are not in Mistral's published transcription API", ARRAY
    ),
}
"""One row per field of OpenAI's ``CreateTranscriptionRequest`` (a test holds this against OpenAI's spec)."""


def segments_asked(draft: Draft, options: Options) -> None:
    """Every format but json and text is built from segments: Mistral is asked for them (and for speakers
    with diarized_json); granularities the client asked for are sent as Mistral's field."""
    granularities: list[str] = list(draft.notes.get("granularities", []))
    fmt = draft.notes.get("format", "json")
    if fmt in SEGMENTED and "segment" not in granularities:
        granularities.append("segment")
    if granularities:
        draft.body["timestamp_granularities"] = granularities
    if fmt == "diarized_json":
        draft.body["diarize"] = True


def stream_decided(draft: Draft, options: Options) -> None:
    if draft.notes.get("stream") and not draft.notes.get("whisper"):
        draft.body["stream"] = True


TRANSCRIPTION_TABLE = Table(
    endpoint="transcriptions",
    fields=TRANSCRIPTION_FIELDS,
    # Mistral's own form fields no OpenAI field produces (diarize, file_url, file_id, speaker_references...).
    mistral_only={None: frozenset(AudioTranscriptionRequest.model_fields) - frozenset(TRANSCRIPTION_FIELDS)},
    rules=(("segments-asked", segments_asked), ("stream-decided", stream_decided)),
    unknown_reason="it is neither an OpenAI nor a Mistral transcription field",
)


# --- transcriptions: the answer -----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def token_usage(usage: Any) -> dict[str, Any]:
    """OpenAI's token usage of a transcription from Mistral's: input is all but the completion (the audio's
    tokens and the text's), its details split the two as Mistral counts them."""
    usage = usage if isinstance(usage, dict) else {}
    total, output = _int(usage.get("total_tokens")), _int(usage.get("completion_tokens"))
    out: dict[str, Any] = {
        "type": "tokens",
        "input_tokens": max(0, total - output),
        "output_tokens": output,
        "total_tokens": total,
    }
    details = usage.get("prompt_tokens_details")
    audio = details.get("audio_tokens") if isinstance(details, dict) else None
    if isinstance(audio, int):
        out["input_token_details"] = {"text_tokens": _int(usage.get("prompt_tokens")), "audio_tokens": audio}
    return out


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    speaker: str | None = None


def segments_of(body: Mapping[str, Any]) -> list[Segment]:
    found = []
    for item in body.get("segments") or []:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        start, end = _number(item.get("start")), _number(item.get("end"))
        speaker = item.get("speaker_id")
        speaker = speaker if isinstance(speaker, str) else None
        found.append(Segment(start or 0.0, end if end is not None else start or 0.0, item["text"], speaker))
    return found


def duration_of(body: Mapping[str, Any], segments: Sequence[Segment]) -> float:
    """The audio's length: the last segment's end, else the seconds Mistral billed."""
    if segments:
        return max(segment.end for segment in segments)
    usage = body.get("usage")
    seconds = _number(usage.get("prompt_audio_seconds")) if isinstance(usage, dict) else None
    return seconds or 0.0


def _stamp(seconds: float, separator: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cues(body: Mapping[str, Any]) -> list[Segment]:
    """The subtitle cues: Mistral's segments, or the whole text as one cue when it sent none."""
    segments = segments_of(body)
    if segments:
        return segments
    return [Segment(0.0, duration_of(body, segments), str(body.get("text") or ""))]


def srt(body: Mapping[str, Any]) -> str:
    cues = _cues(body)
    return "".join(
        f"{n}\n{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}\n{cue.text.strip()}\n\n"
        for n, cue in enumerate(cues, start=1)
    )


def vtt(body: Mapping[str, Any]) -> str:
    cues = "".join(
        f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{c.text.strip()}\n\n" for c in _cues(body)
    )
    return f"WEBVTT\n\n{cues}"


def language_name(code: Any, asked: str | None) -> str:
    """Whisper's ``language`` (an English name) for Mistral's code, or the language asked for when Mistral
    said none (it answers ``null`` even when given a hint, 2026-08)."""
    given = code if isinstance(code, str) and code else asked
    if not given:
        return "unknown"
    return LANGUAGES.get(given.lower(), given)


@dataclass(frozen=True)
class TranscriptionContext:
    """What the answer's rendering must know about the request."""

    format: str = "json"
    granularities: tuple[str, ...] = ()
    language: str | None = None
    temperature: float = 0.0
    stream: bool = False


def verbose(body: Mapping[str, Any], context: TranscriptionContext) -> dict[str, Any]:
    """Whisper's ``verbose_json``: segments in its shape (the scores Whisper computes are 0: Mistral has
    none), words when word timestamps were asked (Mistral's word-level segments, one word each)."""
    segments = segments_of(body)
    out: dict[str, Any] = {
        "task": "transcribe",
        "language": language_name(body.get("language"), context.language),
        "duration": duration_of(body, segments),
        "text": str(body.get("text") or ""),
    }
    if "word" in context.granularities and "segment" not in context.granularities:
        out["words"] = [{"word": s.text.strip(), "start": s.start, "end": s.end} for s in segments]
    else:
        out["segments"] = [
            {
                "id": index,
                "seek": 0,
                "start": segment.start,
                "end": segment.end,
                "text": segment.text,
                "tokens": [],
                "temperature": context.temperature,
                "avg_logprob": 0.0,
                "compression_ratio": 0.0,
                "no_speech_prob": 0.0,
            }
            for index, segment in enumerate(segments)
        ]
    out["usage"] = {"type": "duration", "seconds": duration_usage(body, segments)}
    return out


def duration_usage(body: Mapping[str, Any], segments: Sequence[Segment]) -> float:
    usage = body.get("usage")
    seconds = _number(usage.get("prompt_audio_seconds")) if isinstance(usage, dict) else None
    return seconds if seconds is not None else duration_of(body, segments)


def diarized_segment(index: int, segment: Segment) -> dict[str, Any]:
    return {
        "type": "transcript.text.segment",
        "id": f"seg_{index + 1:03d}",
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "speaker": segment.speaker or "unknown",
    }


def diarized(body: Mapping[str, Any]) -> dict[str, Any]:
    segments = segments_of(body)
    return {
        "task": "transcribe",
        "duration": duration_of(body, segments),
        "text": str(body.get("text") or ""),
        "segments": [diarized_segment(index, segment) for index, segment in enumerate(segments)],
        "usage": token_usage(body.get("usage")),
    }


def render_transcription(body: Any, context: TranscriptionContext) -> Any:
    """Mistral's transcription answer as the client asked for it: a JSON object, or ``Raw`` text."""
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise server_error(502, "Mistral answered a transcription without its text.", "upstream_bad_body")
    if context.format == "text":
        return Raw(f"{body['text']}\n".encode(), TEXT_PLAIN)
    if context.format == "srt":
        return Raw(srt(body).encode(), TEXT_PLAIN)
    if context.format == "vtt":
        return Raw(vtt(body).encode(), TEXT_PLAIN)
    if context.format == "verbose_json":
        return verbose(body, context)
    if context.format == "diarized_json":
        return diarized(body)
    return {"text": body["text"], "usage": token_usage(body.get("usage"))}


@dataclass
class TranscriptionStream:
    """Mistral's transcription events → OpenAI's: ``transcription.text.delta`` is ``transcript.text.delta``,
    ``transcription.done`` is ``transcript.text.done`` (with token usage and the detected language),
    ``transcription.segment`` is ``transcript.text.segment`` for a diarized request (dropped otherwise),
    and ``transcription.language`` is kept for the last event."""

    diarize: bool = False
    language: str | None = None
    segments: int = 0
    _ended: bool = field(default=False, init=False)

    @property
    def ended(self) -> bool:
        return self._ended

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        kind = event.get("type")
        if kind == "transcription.language":
            language = event.get("audio_language")
            self.language = language if isinstance(language, str) else self.language
            return []
        if kind == "transcription.text.delta":
            return [{"type": "transcript.text.delta", "delta": str(event.get("text") or "")}]
        if kind == "transcription.segment":
            if not self.diarize:
                return []
            found = segments_of({"segments": [event]})
            self.segments += 1
            return [diarized_segment(self.segments - 1, found[0])] if found else []
        if kind == "transcription.done":
            self._ended = True
            done: dict[str, Any] = {"type": "transcript.text.done", "text": str(event.get("text") or "")}
            language = event.get("language") if isinstance(event.get("language"), str) else self.language
            if language:
                done["languages"] = [{"code": language}]
            done["usage"] = token_usage(event.get("usage"))
            return [done]
        if kind == "error" or "error" in event:
            raise server_error(
                502, f"Mistral's transcription stream failed: {event}", "upstream_stream_error"
            )
        return []

    def finish(self) -> list[dict[str, Any]]:
        return []


@dataclass(frozen=True)
class TranscriptionPlan:
    """Mistral's form fields (text; a list is sent as repeated fields), and how the answer comes back."""

    fields: tuple[tuple[str, str], ...]
    context: TranscriptionContext
    dropped: tuple[str, ...] = ()

    def render(self, body: Any) -> Any:
        return render_transcription(body, self.context)

    def stream(self) -> StreamTranslation:
        return TranscriptionStream(diarize=self.context.format == "diarized_json")


def form_fields(body: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A Mistral body as form fields: booleans as ``true``/``false``, lists as repeated fields (as
    Mistral's SDK sends ``timestamp_granularities`` and ``context_bias``, without brackets)."""
    pairs: list[tuple[str, str]] = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            pairs.append((name, text))
    return tuple(pairs)


def plan_transcription(body: Mapping[str, Any], options: Options) -> TranscriptionPlan:
    """The Mistral form for OpenAI's transcription form (folded and typed), and its answer's rendering."""
    draft = table.apply(TRANSCRIPTION_TABLE, body, options)
    temperature = _number(body.get("temperature"))
    context = TranscriptionContext(
        format=draft.notes.get("format", "json"),
        granularities=tuple(draft.notes.get("granularities", ())),
        language=draft.body.get("language") if isinstance(draft.body.get("language"), str) else None,
        temperature=temperature or 0.0,
        stream=draft.body.get("stream") is True,
    )
    return TranscriptionPlan(form_fields(draft.body), context, tuple(draft.dropped))


def check_transcription_fields(body: Mapping[str, Any], options: Options) -> None:
    """The fields read before the file part, checked before a byte of the audio is sent."""
    table.apply(TRANSCRIPTION_TABLE, {"file": True, "model": "whisper-1", **body}, options)


def translations_refused() -> OpenAIError:
    """``POST /v1/audio/translations``: Mistral has no job that transcribes into English."""
    return OpenAIError(
        400,
        "Audio translations are not supported on Mistral: it has no endpoint that transcribes audio into "
        "English. Transcribe with /v1/audio/transcriptions, then translate the text with "
        "/v1/chat/completions.",
        code="unsupported_endpoint",
    )


# --- speech -------------------------------------------------------------------------------------------------


def _speech_model(value: Any, draft: Draft, options: Options) -> Any:
    return _alias(value, options, SPEECH_MODELS)


def _voice(value: Any, draft: Draft, options: Options) -> Any:
    if isinstance(value, dict):
        if not isinstance(value.get("id"), str):
            raise refuse("voice must be a voice name or an object with an 'id'.", "voice")
        return value["id"]
    if not isinstance(value, str) or not value:
        raise refuse("voice must be a voice name or an object with an 'id'.", "voice")
    if value in options.aliases:
        return options.aliases[value]
    return DEFAULT_VOICE if value in OPENAI_VOICES else value


def _speech_format(value: Any, draft: Draft, options: Options) -> Any:
    if value not in AUDIO_TYPES:
        raise refuse(
            f"response_format must be one of {', '.join(AUDIO_TYPES)}, not {value!r}.", "response_format"
        )
    if AUDIO_TYPES[value] is None:
        kept = ", ".join(name for name, kind in AUDIO_TYPES.items() if kind)
        raise refuse(
            f"The speech format '{value}' is not supported on Mistral; its formats are {kept}.",
            "response_format",
            "unsupported_value",
        )
    draft.notes["format"] = value
    return value


def _stream_format(value: Any, draft: Draft, options: Options) -> Any:
    if value not in ("sse", "audio"):
        raise refuse(f"stream_format must be 'sse' or 'audio', not {value!r}.", "stream_format")
    return True if value == "sse" else OMIT


SPEECH_FIELDS: dict[str, Field] = {
    "model": Field(
        "convert",
        f"tts-1, tts-1-hd and gpt-4o-mini-tts are {SPEECH_MODEL}; configured aliases resolve",
        STRING,
        convert=_speech_model,
        required=True,
    ),
    "input": Field("keep", "the same text", STRING, required=True),
    "instructions": Field("drop", "Mistral's speech takes no style instructions", STRING),
    "voice": Field(
        "rename",
        f"Mistral's voice_id: OpenAI's voices read as {DEFAULT_VOICE} unless an alias maps them, other "
        "names and {id} are Mistral voice ids",
        CHOICE,
        target="voice_id",
        convert=_voice,
        required=True,
    ),
    "response_format": Field(
        "keep", "mp3, opus, flac, wav and pcm are Mistral's too; aac is a 400", STRING, convert=_speech_format
    ),
    "speed": Field("drop", "Mistral's speech has no speed", NUMBER, harmless=(1, 1.0)),
    "stream_format": Field(
        "convert",
        "sse is Mistral's stream, as OpenAI's speech events; audio is the answer's bytes",
        STRING,
        convert=_stream_format,
        target="stream",
    ),
}
"""One row per field of OpenAI's ``CreateSpeechRequest`` (a test holds this against OpenAI's spec)."""

SPEECH_TABLE = Table(
    endpoint="speech",
    fields=SPEECH_FIELDS,
    # Mistral's own fields (ref_audio, expressiveness, metadata...), passed for a client that knows them.
    mistral_only={
        None: frozenset(SpeechRequest.model_fields)
        - {"input", "model", "voice_id", "response_format", "stream"}
    },
    unknown_reason="it is neither an OpenAI nor a Mistral speech parameter",
)


def speech_audio(body: Any, fmt: str) -> Raw:
    """The audio bytes of Mistral's ``{"audio_data": <base64>}``, with the content type OpenAI sends."""
    data = body.get("audio_data") if isinstance(body, dict) else None
    try:
        audio = base64.b64decode(data, validate=True) if isinstance(data, str) else None
    except ValueError:
        audio = None
    if audio is None:
        raise server_error(502, "Mistral answered speech without base64 audio_data.", "upstream_bad_body")
    return Raw(audio, AUDIO_TYPES[fmt] or "application/octet-stream")


@dataclass
class SpeechStream:
    """Mistral's speech events → OpenAI's: ``audio_data`` is ``audio``, usage in OpenAI's names."""

    _ended: bool = field(default=False, init=False)

    @property
    def ended(self) -> bool:
        return self._ended

    def feed(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        kind = event.get("type")
        if kind == "speech.audio.delta":
            return [{"type": "speech.audio.delta", "audio": str(event.get("audio_data") or "")}]
        if kind == "speech.audio.done":
            self._ended = True
            given = event.get("usage")
            usage: Mapping[str, Any] = given if isinstance(given, dict) else {}
            prompt, completion = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
            total = _int(usage.get("total_tokens")) or prompt + completion
            return [
                {
                    "type": "speech.audio.done",
                    "usage": {"input_tokens": prompt, "output_tokens": completion, "total_tokens": total},
                }
            ]
        if kind == "error" or "error" in event:
            raise server_error(502, f"Mistral's speech stream failed: {event}", "upstream_stream_error")
        return []

    def finish(self) -> list[dict[str, Any]]:
        return []


def plan_speech(body: Mapping[str, Any], options: Options) -> Plan:
    """Mistral's speech request; its answer as the audio's bytes, or its stream as OpenAI's events."""
    table.check_types(SPEECH_TABLE, body)
    draft = table.apply(SPEECH_TABLE, body, options)
    fmt = draft.notes.get("format", "mp3")

    def answer(answers: Sequence[Any]) -> Any:
        return speech_audio(answers[0], fmt)

    stream: Callable[[], StreamTranslation] | None = (
        SpeechStream if draft.body.get("stream") is True else None
    )
    return Plan(SPEECH_PATH, (draft.body,), answer, stream=stream, dropped=tuple(draft.dropped))
