"""Transcription and speech on the mock: segments that fit the real audio, Mistral's events, valid audio in
every format, and the refusals, over real sockets with real audio files."""

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import mutagen
import numpy as np
import pytest
import soundfile
from mistralai.client import Mistral

from testkit.audio import tone_wav
from testkit.auth import KEY
from testkit.spec import mistral_response_validator

VOXTRAL = "voxtral-mini-latest"
EVENT_SCHEMAS = {
    "transcription.language": "TranscriptionStreamLanguage",
    "transcription.text.delta": "TranscriptionStreamTextDelta",
    "transcription.segment": "TranscriptionStreamSegmentDelta",
    "transcription.done": "TranscriptionStreamDone",
}


def valid(schema: str, body: Any) -> None:
    problems = mistral_response_validator(schema)(body)
    assert problems == [], problems


def transcribe(http: httpx.Client, audio: bytes, name: str = "a.wav", **fields: Any) -> httpx.Response:
    data = {"model": VOXTRAL, **fields}
    return http.post("/v1/audio/transcriptions", data=data, files={"file": (name, audio, "audio/wav")})


def sse(answer: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of each event; fails on a ``[DONE]`` or an event without its ``event:`` line."""
    found = []
    for block in answer.text.split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        assert set(lines) == {"event", "data"}, block
        found.append((lines["event"], json.loads(lines["data"])))
    return found


@pytest.fixture
def sdk(mock_url: str) -> Iterator[Mistral]:
    with Mistral(api_key=KEY, server_url=mock_url) as made:
        yield made


# --- transcription ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [1.2, 7.3, 42.0])
def test_segments_fit_the_real_length_of_the_audio(http: httpx.Client, seconds: float) -> None:
    body = transcribe(http, tone_wav(seconds), timestamp_granularities="segment").json()
    valid("TranscriptionResponse", body)
    segments = body["segments"]
    assert segments and segments[0]["start"] == 0.1
    assert all(s["start"] <= s["end"] <= seconds for s in segments)
    assert [s["start"] for s in segments] == sorted(s["start"] for s in segments)
    assert segments[-1]["end"] >= seconds - 0.5, "the words run to the end of the audio"
    assert "".join(s["text"] for s in segments) == body["text"]
    usage = body["usage"]
    assert usage["prompt_audio_seconds"] == int(seconds)
    windows = -(-seconds // 30)
    assert usage["prompt_tokens_details"]["audio_tokens"] == 375 * windows
    assert usage["total_tokens"] == usage["prompt_tokens"] + 375 * windows + usage["completion_tokens"]


def test_the_answer_is_the_live_one_key_for_key(http: httpx.Client) -> None:
    answer = transcribe(http, tone_wav(3.5))
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert list(body) == ["model", "text", "language", "segments", "usage", "finish_reason"]
    assert (body["model"], body["language"], body["segments"], body["finish_reason"]) == (
        VOXTRAL,
        None,
        [],
        None,
    )
    assert list(body["usage"]) == [
        "prompt_audio_seconds", "prompt_tokens", "total_tokens", "completion_tokens", "prompt_tokens_details",
        "service_tier",
    ]  # fmt: skip
    assert transcribe(http, tone_wav(3.5), language="en").json()["usage"]["prompt_tokens"] == 5


def test_the_transcript_is_the_audios_wherever_it_comes_from(http: httpx.Client) -> None:
    audio = tone_wav(4.0)
    inline = transcribe(http, audio).json()
    assert transcribe(http, audio, name="other-name.wav").json()["text"] == inline["text"]
    assert transcribe(http, tone_wav(4.0, frequency=300)).json()["text"] != inline["text"]
    file_id = http.post("/v1/files", data={"purpose": "ocr"}, files={"file": ("a.wav", audio)}).json()["id"]
    # Without a file part Mistral's SDK sends the form url-encoded.
    by_id = http.post("/v1/audio/transcriptions", data={"model": VOXTRAL, "file_id": file_id})
    assert by_id.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert by_id.json()["text"] == inline["text"]
    signed = http.get(f"/v1/files/{file_id}/url").json()["url"]
    by_url = http.post("/v1/audio/transcriptions", data={"model": VOXTRAL, "file_url": signed}).json()
    assert by_url["text"] == inline["text"]
    elsewhere = {"model": VOXTRAL, "file_url": "https://example.com/talk.mp3"}
    assert http.post("/v1/audio/transcriptions", data=elsewhere).json() == (
        http.post("/v1/audio/transcriptions", data=elsewhere).json()
    ), "a URL the mock cannot fetch still gets one answer"


@pytest.mark.parametrize(
    ("container", "subtype", "name"),
    [("MP3", "MPEG_LAYER_III", "a.mp3"), ("FLAC", "PCM_16", "a.flac"), ("OGG", "OPUS", "a.opus")],
)
def test_other_formats_are_read_for_their_length(
    http: httpx.Client, container: str, subtype: str, name: str
) -> None:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(24000 * 11, dtype=np.float32), 24000, format=container, subtype=subtype)
    body = transcribe(http, buffer.getvalue(), name=name, timestamp_granularities="segment").json()
    assert body["usage"]["prompt_audio_seconds"] == 11
    assert 10.5 <= body["segments"][-1]["end"] <= 11


def test_granularities_with_and_without_brackets_and_words(http: httpx.Client) -> None:
    audio = tone_wav(5.0)
    plain = transcribe(http, audio, timestamp_granularities="segment").json()["segments"]
    bracketed = transcribe(http, audio, **{"timestamp_granularities[]": "segment"}).json()["segments"]
    assert plain == bracketed and plain
    words = transcribe(http, audio, timestamp_granularities="word").json()
    assert len(words["segments"]) == len(words["text"].split())


def test_diarization_names_speakers(http: httpx.Client) -> None:
    audio = tone_wav(12.0)
    diarized = transcribe(http, audio, diarize="true").json()["segments"]
    assert diarized and {s["speaker_id"] for s in diarized} == {"speaker_1"}
    references = json.dumps({"alice": "data:audio/wav;base64,AAAA", "bob": "data:audio/wav;base64,AAAA"})
    named = transcribe(
        http, audio, diarize="true", timestamp_granularities="word", speaker_references=references
    )
    assert [s["speaker_id"] for s in named.json()["segments"][:2]] == ["alice", "bob"]


def test_a_stream_is_mistrals_events_with_event_lines(http: httpx.Client) -> None:
    audio = tone_wav(6.0)
    whole = transcribe(http, audio, timestamp_granularities="segment").json()
    answer = transcribe(http, audio, timestamp_granularities="segment", stream="true")
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert "[DONE]" not in answer.text
    events = sse(answer)
    for name, data in events:
        assert data["type"] == name
        valid(EVENT_SCHEMAS[name], data)
    names = [name for name, _ in events]
    assert names[0] == "transcription.language" and names[-1] == "transcription.done"
    deltas = "".join(data["text"] for name, data in events if name == "transcription.text.delta")
    assert deltas == whole["text"]
    assert [d["start"] for n, d in events if n == "transcription.segment"] == [
        s["start"] for s in whole["segments"]
    ]
    done = events[-1][1]
    assert (done["text"], done["segments"], done["usage"]) == (
        whole["text"],
        whole["segments"],
        whole["usage"],
    )


def test_the_sdk_transcribes_and_streams(sdk: Mistral) -> None:
    audio = tone_wav(3.0)
    answer = sdk.audio.transcriptions.complete(
        model=VOXTRAL, file={"file_name": "a.wav", "content": audio}, timestamp_granularities=["segment"]
    )
    assert answer.text and answer.segments and answer.segments[-1].end <= 3.0
    events = list(
        sdk.audio.transcriptions.stream(model=VOXTRAL, file={"file_name": "a.wav", "content": audio})
    )
    assert events[-1].event == "transcription.done" and events[-1].data.text == answer.text


def test_transcription_refusals(http: httpx.Client) -> None:
    audio = tone_wav(1.0)
    nothing = http.post("/v1/audio/transcriptions", data={"model": VOXTRAL})
    assert nothing.status_code == 400
    both = transcribe(http, audio, file_url="https://example.com/a.mp3")
    assert both.status_code == 400
    for model in ("mistral-small-latest", "no-such-model"):
        wrong = transcribe(http, audio, model=model)
        assert (wrong.status_code, wrong.json()["message"]) == (400, f"Invalid model: {model}")
    assert (
        transcribe(http, b"RIFF not really audio").json()["message"] == "The audio file could not be decoded"
    )
    unknown = http.post("/v1/audio/transcriptions", data={"model": VOXTRAL, "file_id": "nope"})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "File not found"})
    details = transcribe(
        http, audio, language="eng", temperature="hot", timestamp_granularities="page"
    ).json()
    locs = [d["loc"] for d in details["message"]["detail"]]
    assert locs == [["body", "language"], ["body", "temperature"], ["body", "timestamp_granularities", 0]]
    (missing,) = http.post("/v1/audio/transcriptions", files={"file": ("a.wav", audio)}).json()["message"][
        "detail"
    ]
    assert (missing["loc"], missing["input"]) == (["body", "model"], None)
    no_diarize = transcribe(http, audio, speaker_references=json.dumps({"a": "b"}))
    assert no_diarize.status_code == 400
    bad_url = http.post("/v1/audio/transcriptions", data={"model": VOXTRAL, "file_url": "not a url"})
    assert bad_url.json()["message"]["detail"][0]["loc"] == ["body", "file_url"]


# --- speech -------------------------------------------------------------------------------------------


def speak(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/v1/audio/speech", json={"model": "voxtral-mini-tts-latest", **body})


TEXT = "Ruby is a programming language designed for developer happiness."


@pytest.mark.parametrize(
    ("response_format", "kind"), [("wav", "WAVE"), ("flac", "FLAC"), ("opus", "OggOpus"), ("mp3", "MP3")]
)
def test_speech_is_valid_audio_of_the_format_asked(
    http: httpx.Client, response_format: str, kind: str
) -> None:
    answer = speak(http, input=TEXT, response_format=response_format)
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert list(body) == ["audio_data"]
    audio = base64.b64decode(body["audio_data"])
    read = mutagen.File(io.BytesIO(audio))
    assert type(read).__name__ == kind
    expected = len(TEXT) * 0.065
    assert abs(read.info.length - expected) < 0.3
    samples, rate = soundfile.read(io.BytesIO(audio))
    assert rate == 24000 and abs(len(samples) / rate - expected) < 0.3
    assert np.abs(samples).max() > 0.1, "it is not silence"


def test_speech_defaults_to_mp3_and_pcm_is_raw_samples(http: httpx.Client) -> None:
    mp3 = base64.b64decode(speak(http, input="Hello there.").json()["audio_data"])
    assert type(mutagen.File(io.BytesIO(mp3))).__name__ == "MP3"
    pcm = base64.b64decode(speak(http, input="Hello there.", response_format="pcm").json()["audio_data"])
    wav = base64.b64decode(speak(http, input="Hello there.", response_format="wav").json()["audio_data"])
    samples, _ = soundfile.read(io.BytesIO(wav), dtype="int16")
    assert len(pcm) == 2 * len(samples)
    # The same samples (libsndfile scales by 32768, the raw ones by 32767).
    assert abs(np.frombuffer(pcm, "<i2").astype(int) - samples.astype(int)).max() <= 2


def test_speech_is_deterministic_per_voice_and_text(http: httpx.Client) -> None:
    first = speak(http, input=TEXT, voice_id="en_paul_neutral", response_format="wav").json()
    assert first == speak(http, input=TEXT, voice_id="en_paul_neutral", response_format="wav").json()
    assert first != speak(http, input=TEXT, voice_id="another", response_format="wav").json()
    # The live API took ruby_llm's ``voice`` key (the body is open).
    assert speak(http, input=TEXT, voice="en_paul_neutral").status_code == 200


def test_a_speech_stream_carries_the_file_in_slices(http: httpx.Client) -> None:
    whole = base64.b64decode(speak(http, input=TEXT * 3, response_format="flac").json()["audio_data"])
    answer = speak(http, input=TEXT * 3, response_format="flac", stream=True)
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = sse(answer)
    assert [name for name, _ in events][-1] == "speech.audio.done"
    assert len(events) > 2
    joined = b"".join(base64.b64decode(d["audio_data"]) for n, d in events if n == "speech.audio.delta")
    assert joined == whole
    usage = events[-1][1]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0


def test_the_sdk_speaks(sdk: Mistral) -> None:
    answer = sdk.audio.speech.complete(input="Hello.", model="voxtral-mini-tts-latest", response_format="wav")
    assert base64.b64decode(answer.audio_data)[:4] == b"RIFF"


def test_speech_refusals(http: httpx.Client) -> None:
    assert speak(http, input="x", model="mistral-small-latest").json()["type"] == "invalid_model"
    (detail,) = speak(http, input="x", response_format="aac").json()["message"]["detail"]
    assert detail["loc"] == ["body", "response_format"]
    (low,) = speak(http, input="x", expressiveness=0.5).json()["message"]["detail"]
    assert low["loc"] == ["body", "expressiveness"]
    (missing,) = http.post("/v1/audio/speech", json={"model": "voxtral-mini-tts-latest"}).json()["message"][
        "detail"
    ]
    assert missing["loc"] == ["body", "input"]
    assert http.post("/v1/audio/speech", json={"input": "no model given"}).status_code == 200
