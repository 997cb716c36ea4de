"""Audio with the openai client: transcriptions in every format, streamed transcripts, speech, translations.

Without the shim OpenAI's models (``whisper-1``, ``tts-1``) are unknown to Mistral, a transcription is
always Mistral's JSON, and speech comes back as JSON with base64 audio where the SDK expects the audio's
bytes. Behind the shim the models are Voxtral's, every ``response_format`` is built from Mistral's
segments, and speech is the audio itself with its content type.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import openai
import pytest
from openai import OpenAI

from contract_tests.conftest import Breaks
from testkit.audio import tone_wav
from testkit.spec import openai_response_validator

AUDIO = ("tone.wav", tone_wav(3.0), "audio/wav")
SHIMMED = ("shim+mock", "shim+replay", "live")


@pytest.mark.feature("Audio", "transcriptions with whisper-1")
def test_a_transcription_with_openais_model(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.BadRequestError, "400: Mistral has no model whisper-1"):
        answer = client.audio.transcriptions.create(file=AUDIO, model="whisper-1")
        assert isinstance(answer.text, str) and answer.text
        assert answer.usage is not None and answer.usage.type == "tokens"


@pytest.mark.feature("Audio", "transcriptions in every response_format")
@pytest.mark.targets(*SHIMMED)
@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json", "diarized_json"])
def test_every_response_format(client: OpenAI, fmt: Any) -> None:
    answer = client.audio.transcriptions.create(file=AUDIO, model="whisper-1", response_format=fmt)
    if fmt == "text":
        assert isinstance(answer, str) and answer.strip()
    elif fmt == "srt":
        assert isinstance(answer, str) and answer.startswith("1\n") and " --> " in answer
    elif fmt == "vtt":
        assert isinstance(answer, str) and answer.startswith("WEBVTT\n\n") and " --> " in answer
    else:
        wire = answer.model_dump(exclude_unset=True)  # type: ignore[union-attr]
        schema = {
            "json": "CreateTranscriptionResponseJson",
            "verbose_json": "CreateTranscriptionResponseVerboseJson",
            "diarized_json": "CreateTranscriptionResponseDiarizedJson",
        }[fmt]
        assert openai_response_validator(schema)(wire) == []
        if fmt == "verbose_json":
            assert 0 < wire["duration"] <= 3.5 and wire["segments"]
            assert all(segment["end"] <= 3.5 for segment in wire["segments"])


@pytest.mark.feature("Audio", "streamed transcripts")
@pytest.mark.targets(*SHIMMED)
def test_a_streamed_transcript(client: OpenAI) -> None:
    stream = client.audio.transcriptions.create(file=AUDIO, model="gpt-4o-transcribe", stream=True)
    events = list(stream)
    assert events and events[-1].type == "transcript.text.done"
    deltas = "".join(event.delta for event in events if event.type == "transcript.text.delta")
    assert deltas == events[-1].text  # type: ignore[union-attr]


@pytest.mark.feature("Audio", "speech as audio bytes")
def test_speech_is_the_audio_itself(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.BadRequestError, "400: Mistral has no model tts-1"):
        with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Hello from the contract suite.", response_format="wav"
        ) as answer:
            assert answer.headers["content-type"] == "audio/wav"
            audio = answer.read()
        assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"


@pytest.mark.feature("Audio", "speech as SSE events")
@pytest.mark.targets(*SHIMMED)
def test_speech_as_events(client: OpenAI) -> None:
    answer = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="nova", input="Hi.", stream_format="sse"
    )
    events = [json.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: ")]
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["total_tokens"] >= 0
    audio = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    assert audio[:3] == b"ID3" or audio[:2] == b"\xff\xfb" or len(audio) > 0


@pytest.mark.feature("Audio", "formats and jobs Mistral lacks are a 400")
@pytest.mark.targets(*SHIMMED)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks translations deprecated
def test_what_mistral_lacks_is_a_clear_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="aac"):
        client.audio.speech.create(model="tts-1", voice="alloy", input="Hi.", response_format="aac")
    with pytest.raises(openai.BadRequestError, match="not supported on Mistral"):
        client.audio.translations.create(file=AUDIO, model="whisper-1")
