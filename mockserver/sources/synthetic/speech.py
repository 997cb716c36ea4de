"""Synthetic speech: a real audio file of the format asked for, its length following the text.

There is no voice to imitate, so the audio is a hum per word: each word a short harmonic tone (its pitch
drawn from the voice, so a voice keeps its pitch), words separated by silences, about 65 ms a character (a
speaking pace), at 24 kHz mono. It is deterministic per voice and text. It is encoded by libsndfile (the
``soundfile`` wheel ships it with its Opus and MPEG encoders) in each of Mistral's formats: ``wav``
(16-bit PCM), ``flac``, ``opus`` (in Ogg, as ``.opus`` files are), ``mp3`` (MPEG Layer III), and ``pcm``, the
raw samples (16-bit little-endian, 24 kHz, mono: the common TTS convention; Mistral does not document its
own).

The answer is Mistral's ``{"audio_data": "<base64>"}``; a stream is ``speech.audio.delta`` events each
carrying a slice of the file in base64, then ``speech.audio.done`` with the usage, each with its
``event:`` line. Usage is an assumption (no recording shows it): the text's tokens in, the audio's frames
at 12.5 a second out.
"""

import base64
import io
import math
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile

from mistral_wire import tokens
from mistral_wire.contract.audio import SpeechRequest
from mistral_wire.sse import encode_named as event
from mockserver.sources.synthetic import seeds

SAMPLE_RATE = 24000
SECONDS_PER_CHARACTER = 0.065
GAP_SECONDS = 0.08
MIN_SECONDS, MAX_SECONDS = 0.5, 60.0
FRAMES_PER_SECOND = 12.5
CHUNK_BYTES = 32 * 1024
FORMATS: dict[str, tuple[str, str]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}


def samples(request: SpeechRequest) -> npt.NDArray[np.float32]:
    """The audio, as float samples in [-1, 1]."""
    voice = request.voice_id or (request.ref_audio or "")[:256] or "default"
    pitch = 110 + seeds.derive(seeds.request_seed("voice", voice), "pitch") % 130
    words = request.input.split() or [""]
    letters = sum(len(word) for word in words) or 1
    seconds = min(max(len(request.input) * SECONDS_PER_CHARACTER, MIN_SECONDS), MAX_SECONDS)
    speaking = max(seconds - GAP_SECONDS * len(words), seconds / 2)
    parts = []
    seed = seeds.request_seed("speech", [voice, request.input])
    for index, word in enumerate(words):
        length = int(SAMPLE_RATE * speaking * max(len(word), 1) / letters)
        time = np.arange(length, dtype=np.float64) / SAMPLE_RATE
        lilt = 1 + (seeds.derive(seed, index) % 200 - 100) / 1000  # each word a little higher or lower
        tone = sum(np.sin(2 * math.pi * pitch * lilt * h * time) / h for h in (1, 2, 3))
        parts.append(tone * np.hanning(length) * 0.3)
        parts.append(np.zeros(int(SAMPLE_RATE * GAP_SECONDS)))
    joined: npt.NDArray[np.float32] = np.concatenate(parts).astype(np.float32)
    return joined


def encode(audio: npt.NDArray[np.float32], response_format: str) -> bytes:
    """The samples as a file of ``response_format`` (``pcm``: the raw 16-bit samples)."""
    if response_format == "pcm":
        return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    container, subtype = FORMATS[response_format]
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, SAMPLE_RATE, format=container, subtype=subtype)
    return buffer.getvalue()


def speak(request: SpeechRequest) -> tuple[bytes, dict[str, Any]]:
    """The audio file and the usage. CPU work: call it in a worker thread."""
    audio = samples(request)
    encoded = encode(audio, request.response_format)
    prompt = tokens.count(request.input) if request.input else 0
    completion = math.ceil(len(audio) / SAMPLE_RATE * FRAMES_PER_SECOND)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return encoded, usage


def body(audio: bytes) -> dict[str, Any]:
    return {"audio_data": base64.b64encode(audio).decode()}


def events(audio: bytes, usage: dict[str, Any]) -> list[bytes]:
    out = []
    for start in range(0, len(audio), CHUNK_BYTES):
        data = base64.b64encode(audio[start : start + CHUNK_BYTES]).decode()
        out.append(event("speech.audio.delta", {"type": "speech.audio.delta", "audio_data": data}))
    out.append(event("speech.audio.done", {"type": "speech.audio.done", "usage": usage}))
    return out
