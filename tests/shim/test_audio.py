"""OpenAI's audio API on Mistral's: the tables and renderings (pure), then the openai client through the shim
in front of a scripted Mistral (``testkit.fake_mistral``)."""

import base64
import json
from typing import Any

import httpx2 as httpx
import openai
import pytest

from shim.translate import audio, forms, table
from shim.translate.context import Options
from shim.translate.plan import Raw
from shim.translate.problem import OpenAIError
from testkit.auth import AUTH
from testkit.fake_mistral import Faked, default_transcription, parse_form
from testkit.spec import component_schemas, openai_response_validator, openai_spec

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64
SEGMENTED = default_transcription({"timestamp_granularities": ["segment"]})
DIARIZED = default_transcription({"diarize": ["true"]})


def plan(**fields: Any) -> audio.TranscriptionPlan:
    body = forms.coerce(audio.TRANSCRIPTION_TABLE, {"file": True, "model": "whisper-1", **fields})
    return audio.plan_transcription(body, Options())


# --- transcriptions: the form -------------------------------------------------------------------------------


def test_every_field_of_openais_transcription_request_has_a_row() -> None:
    schema = component_schemas(openai_spec())["CreateTranscriptionRequest"]
    assert set(audio.TRANSCRIPTION_FIELDS) == set(schema["properties"])
    assert all(len(row.reason) > 10 for row in audio.TRANSCRIPTION_FIELDS.values())


@pytest.mark.parametrize("model", sorted(audio.TRANSCRIPTION_MODELS))
def test_openais_transcription_models_are_voxtral(model: str) -> None:
    assert ("model", "voxtral-mini-latest") in plan(model=model).fields


def test_the_fields_become_mistrals_form() -> None:
    fields = plan(
        language="en", temperature="0.2", keywords=["Mistral AI", "Voxtral,shim"], prompt="hi"
    ).fields
    assert fields == (
        ("model", "voxtral-mini-latest"),
        ("language", "en"),
        ("temperature", "0.2"),
        ("context_bias", "Mistral"),
        ("context_bias", "AI"),
        ("context_bias", "Voxtral"),
        ("context_bias", "shim"),
    )
    assert plan(prompt="hi").dropped == ("prompt",)


@pytest.mark.parametrize(
    ("fmt", "asked"),
    [
        ("json", ()),
        ("text", ()),
        ("srt", (("timestamp_granularities", "segment"),)),
        ("vtt", (("timestamp_granularities", "segment"),)),
        ("verbose_json", (("timestamp_granularities", "segment"),)),
        ("diarized_json", (("timestamp_granularities", "segment"), ("diarize", "true"))),
    ],
)
def test_a_format_built_from_segments_asks_mistral_for_them(fmt: str, asked: tuple[Any, ...]) -> None:
    assert plan(response_format=fmt).fields[1:] == asked


def test_granularities_and_stream_from_the_form() -> None:
    folded = forms.fold([("timestamp_granularities[]", "word"), ("timestamp_granularities[]", "segment")])
    assert plan(**folded, response_format="verbose_json").fields[1:] == (
        ("timestamp_granularities", "word"),
        ("timestamp_granularities", "segment"),
    )
    assert ("stream", "true") in plan(model="gpt-4o-transcribe", stream="true").fields
    assert ("stream", "true") not in plan(model="whisper-1", stream="true").fields  # OpenAI ignores it too


@pytest.mark.parametrize(
    ("fields", "param"),
    [({"response_format": "mp4"}, "response_format"), ({"temperature": "warm"}, "temperature"),
     ({"timestamp_granularities": "minute"}, "timestamp_granularities")],
)  # fmt: skip
def test_a_bad_field_is_a_400_naming_it(fields: dict[str, str], param: str) -> None:
    with pytest.raises(OpenAIError) as refused:
        plan(**fields)
    assert refused.value.status == 400 and refused.value.param == param


# --- transcriptions: the answer -----------------------------------------------------------------------------


def test_json_is_openais_with_token_usage() -> None:
    answer = plan().render(default_transcription({}))
    assert openai_response_validator("CreateTranscriptionResponseJson")(answer) == []
    assert answer["usage"] == {
        "type": "tokens",
        "input_tokens": 378,
        "output_tokens": 11,
        "total_tokens": 389,
        "input_token_details": {"text_tokens": 3, "audio_tokens": 375},
    }


def test_text_srt_and_vtt_are_built_from_the_segments() -> None:
    text = plan(response_format="text").render(SEGMENTED)
    assert text == Raw(
        b"Ruby is a programming language designed for developer happiness.\n", audio.TEXT_PLAIN
    )
    subtitles = plan(response_format="srt").render(SEGMENTED)
    assert isinstance(subtitles, Raw)
    assert subtitles.body.decode() == (
        "1\n00:00:00,100 --> 00:00:02,000\nRuby is a programming language\n\n"
        "2\n00:00:02,000 --> 00:00:03,600\ndesigned for developer happiness.\n\n"
    )
    web = plan(response_format="vtt").render(SEGMENTED)
    assert isinstance(web, Raw) and web.body.decode().startswith("WEBVTT\n\n00:00:00.100 --> 00:00:02.000\n")


def test_subtitles_without_segments_are_one_cue_over_the_billed_seconds() -> None:
    subtitles = plan(response_format="srt").render(default_transcription({}))
    assert isinstance(subtitles, Raw)
    assert subtitles.body.decode().splitlines()[:2] == ["1", "00:00:00,000 --> 00:00:03,000"]


def test_verbose_json_is_whispers_shape() -> None:
    answer = plan(response_format="verbose_json", language="en", temperature="0.3").render(SEGMENTED)
    assert openai_response_validator("CreateTranscriptionResponseVerboseJson")(answer) == []
    assert answer["language"] == "english" and answer["duration"] == 3.6 and answer["task"] == "transcribe"
    assert answer["segments"][1]["id"] == 1 and answer["segments"][1]["temperature"] == 0.3
    assert answer["usage"] == {"type": "duration", "seconds": 3.0}


def test_diarized_json_carries_the_speakers() -> None:
    answer = plan(response_format="diarized_json").render(DIARIZED)
    assert openai_response_validator("CreateTranscriptionResponseDiarizedJson")(answer) == []
    assert [s["id"] for s in answer["segments"]] == ["seg_001", "seg_002"]
    assert {s["speaker"] for s in answer["segments"]} == {"speaker_1"}


def test_mistrals_stream_becomes_openais_transcript_events() -> None:
    stream = audio.TranscriptionStream()
    events = [
        {"type": "transcription.language", "audio_language": "en"},
        {"type": "transcription.text.delta", "text": "Hi"},
        {"type": "transcription.segment", "text": "Hi", "start": 0.0, "end": 1.0},
        {
            "type": "transcription.done",
            "text": "Hi",
            "language": None,
            "usage": {"total_tokens": 9, "completion_tokens": 2},
        },
    ]
    out = [event for given in events for event in stream.feed(given)]
    assert out == [
        {"type": "transcript.text.delta", "delta": "Hi"},
        {
            "type": "transcript.text.done",
            "text": "Hi",
            "languages": [{"code": "en"}],
            "usage": {"type": "tokens", "input_tokens": 7, "output_tokens": 2, "total_tokens": 9},
        },
    ]
    assert stream.ended
    validate = openai_response_validator("CreateTranscriptionResponseStreamEvent")
    assert all(validate(event) == [] for event in out)


# --- speech -------------------------------------------------------------------------------------------------


def test_every_field_of_openais_speech_request_has_a_row() -> None:
    schema = component_schemas(openai_spec())["CreateSpeechRequest"]
    assert set(audio.SPEECH_FIELDS) == set(schema["properties"])


def speech(options: Options | None = None, **fields: Any) -> dict[str, Any]:
    body = {"model": "tts-1", "input": "Hello", "voice": "alloy", **fields}
    return table.apply(audio.SPEECH_TABLE, body, options or Options()).body


def test_speech_becomes_mistrals_request() -> None:
    assert speech() == {"model": "voxtral-mini-tts-latest", "input": "Hello", "voice_id": "en_paul_neutral"}
    assert speech(voice={"id": "3f2a"}, response_format="wav")["voice_id"] == "3f2a"
    assert speech(voice="fr_marie_happy")["voice_id"] == "fr_marie_happy"
    assert (
        speech(Options(aliases={"nova": "fr_marie_neutral"}), voice="nova")["voice_id"] == "fr_marie_neutral"
    )
    assert speech(stream_format="sse")["stream"] is True and "stream" not in speech(stream_format="audio")


def test_aac_is_a_400_naming_mistrals_formats() -> None:
    with pytest.raises(OpenAIError) as refused:
        speech(response_format="aac")
    assert refused.value.param == "response_format" and "mp3, opus, flac, wav, pcm" in refused.value.message


# --- through the shim ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "text", "srt", "vtt", "verbose_json", "diarized_json"])
def test_the_openai_client_transcribes_in_every_format(faked: Faked, fmt: Any) -> None:
    answer = faked.client.audio.transcriptions.create(
        file=("ruby.wav", WAV, "audio/wav"), model="whisper-1", response_format=fmt
    )
    text = answer if isinstance(answer, str) else answer.text
    assert "Ruby is a programming language" in text
    parts = parse_form(faked.upstream.received[-1])
    sent_file = next(part for part in parts if part.name == "file")
    assert sent_file.value == WAV and sent_file.filename == "ruby.wav"
    fields = [(part.name, part.value.decode()) for part in parts if part.name != "file"]
    assert fields[0] == ("model", "voxtral-mini-latest")
    if fmt in ("srt", "vtt", "verbose_json", "diarized_json"):
        assert ("timestamp_granularities", "segment") in fields
    if fmt == "srt":
        assert isinstance(answer, str) and "00:00:00,100 --> 00:00:02,000" in answer


def test_the_openai_client_streams_a_transcription(faked: Faked) -> None:
    stream = faked.client.audio.transcriptions.create(
        file=("ruby.wav", WAV, "audio/wav"), model="gpt-4o-transcribe", stream=True
    )
    events = list(stream)
    assert [e.type for e in events] == [
        "transcript.text.delta",
        "transcript.text.delta",
        "transcript.text.done",
    ]
    assert events[-1].text == "Ruby is a language."  # type: ignore[union-attr]


def test_a_file_sent_first_is_streamed_and_the_fields_after_it_translated(faked: Faked) -> None:
    form = [
        ("file", ("a.wav", WAV, "audio/wav")),
        ("model", (None, b"whisper-1")),
        ("response_format", (None, b"vtt")),
    ]
    answer = httpx.post(f"{faked.shim_url}/v1/audio/transcriptions", files=form, headers=AUTH, timeout=30)
    assert answer.status_code == 200 and answer.text.startswith("WEBVTT")
    assert answer.headers["content-type"].startswith("text/plain")


def test_a_transcription_without_a_model_is_a_400(faked: Faked) -> None:
    form = [("file", ("a.wav", WAV, "audio/wav"))]
    answer = httpx.post(f"{faked.shim_url}/audio/transcriptions", files=form, headers=AUTH, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "model"
    assert faked.mistral.requests == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks translations deprecated
def test_translations_are_a_clear_400(faked: Faked) -> None:
    with pytest.raises(openai.BadRequestError, match="not supported on Mistral"):
        faked.client.audio.translations.create(file=("a.wav", WAV, "audio/wav"), model="whisper-1")
    assert faked.upstream.received == []


def test_the_openai_client_gets_the_audio_bytes(faked: Faked) -> None:
    with faked.client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="Hello", response_format="wav"
    ) as answer:
        assert answer.headers["content-type"] == "audio/wav"
        assert answer.read() == faked.mistral.speech
    assert faked.upstream.received[-1].json == {
        "model": "voxtral-mini-tts-latest",
        "input": "Hello",
        "voice_id": "en_paul_neutral",
        "response_format": "wav",
    }


def test_speech_as_sse_is_openais_events(faked: Faked) -> None:
    answer = faked.client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="nova", input="Hi", stream_format="sse"
    )
    events = [json.loads(line[6:]) for line in answer.text.splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events] == ["speech.audio.delta", "speech.audio.done"]
    assert base64.b64decode(events[0]["audio"]) == faked.mistral.speech
    assert events[1]["usage"] == {"input_tokens": 12, "output_tokens": 40, "total_tokens": 52}


def test_speech_in_aac_is_refused_before_mistral(faked: Faked) -> None:
    with pytest.raises(openai.BadRequestError, match="aac"):
        faked.client.audio.speech.create(model="tts-1", voice="alloy", input="Hi", response_format="aac")
    assert faked.upstream.received == []
