"""Mistral's audio endpoints: transcription (a form) and speech (JSON).

``POST /v1/audio/transcriptions`` is one route with two schemas in the spec (``AudioTranscriptionRequest``,
whose ``stream`` is the constant false, and ``AudioTranscriptionRequestStream``, true): the audio is a
``file`` part, a ``file_url`` or the ``file_id`` of an uploaded file. Mistral's SDK sends it as
``multipart/form-data`` with a file, and url-encoded without one; list fields repeat their key, and the live
API also reads ``timestamp_granularities[]`` (ruby_llm, 2026-08), as ``parsing.parse_form`` does.

``POST /v1/audio/speech`` answers the audio as base64 (``{"audio_data": ...}``) or as events; its body is
open (``additionalProperties: true``): ruby_llm's live request sends ``voice``, which the spec does not name,
and gets a 200.
"""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, HttpUrl, Json

from mistral_wire.contract.base import Open, Params

TimestampGranularity = Literal["segment", "word"]
SpeechOutputFormat = Literal["pcm", "wav", "mp3", "flac", "opus"]
SDK = "mistralai 3.7.0"

Language = Annotated[str, Field(pattern=r"^\w{2}$")]
BiasToken = Annotated[str, Field(pattern=r"^[^,\s]+$")]
# pydantic's HttpUrl is the spec's ``format: uri`` with ``maxLength: 2083`` (its own bound): an http(s) URL.
FileUrl = HttpUrl


class AudioTranscriptionRequest(Params):
    """The transcription form. ``file`` holds the form reader's token for the file part."""

    FILE_FIELDS: ClassVar[frozenset[str]] = frozenset({"file"})
    UNPUBLISHED: ClassVar[dict[str, str]] = {
        "speaker_references": f"{SDK}'s AudioTranscriptionRequest (a JSON part; needs diarize=true)",
    }

    model: str
    file: str | None = None
    file_url: FileUrl | None = None
    file_id: str | None = None
    language: Language | None = None
    temperature: float | None = None
    stream: Literal[False] = False
    diarize: bool = False
    context_bias: list[BiasToken] = Field(default_factory=list)
    timestamp_granularities: list[TimestampGranularity] = Field(default_factory=list)
    speaker_references: Json[dict[str, str]] | None = None


class AudioTranscriptionRequestStream(AudioTranscriptionRequest):
    stream: Literal[True] = True  # type: ignore[assignment]  # the spec's second schema: the constant true


class MetadataDict(Open):
    """The spec's free-form metadata object."""


class SpeechRequest(Open):
    UNPUBLISHED: ClassVar[dict[str, str]] = {
        "expressiveness": f"{SDK}'s SpeechRequest (finite, at least 1.0)",
        "phoneme_hints": f"{SDK}'s SpeechRequest (word -> IPA phones)",
        "conversation_history": f"{SDK}'s SpeechRequest (turns; needs a pvc preset voice, not ref_audio)",
    }

    model: str | None = None
    metadata: MetadataDict | None = None
    stream: bool = False
    prompt_cache_key: str | None = None
    voice_id: str | None = None
    ref_audio: str | None = None
    input: str
    response_format: SpeechOutputFormat = "mp3"
    expressiveness: Annotated[float, Field(ge=1.0, allow_inf_nan=False)] | None = None
    phoneme_hints: dict[str, list[str]] | None = None
    conversation_history: list[dict[str, Any]] | None = None
