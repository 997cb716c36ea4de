"""Synthetic transcriptions: deterministic text whose segments fit the audio's real length.

The text is drawn from the audio (its digest) and the model, at a speaking pace of about 2.5 words a
second, whole sentences, so the same file gets the same transcript in one request or the next, streamed or
not. Segments exist when asked for (``timestamp_granularities`` ``segment``, or ``word`` for one segment a
word), or with ``diarize``; without either the live API answers ``"segments": []`` (ruby_llm, 2026-08).
Segment times start 0.1 s in, as live, follow the words, and end within the audio; they are rounded to a
tenth of a second, as live. A diarized segment carries ``speaker_id``: ``speaker_1`` (all four of vercel's
recorded segments), or the names of ``speaker_references`` in turn.

The answer is the live one, key for key: ``model, text, language, segments, usage, finish_reason``, with
``language`` null even when a hint was given (2026-08; 2025's answers filled it) and the usage of 2026:
``prompt_audio_seconds``, ``prompt_tokens`` (3, plus 2 with a language hint), ``total_tokens`` counting the
audio's tokens (375 for each started 30 s window, as recorded), ``completion_tokens`` (the text's tokens),
``prompt_tokens_details`` and ``service_tier``.

A stream is Mistral's transcription events, each with its ``event:`` line and no ``[DONE]``:
``transcription.language``, the text in ``transcription.text.delta`` events, each segment in a
``transcription.segment``, then ``transcription.done`` with the whole answer.
"""

import math
from typing import Any

from mistral_wire import tokens
from mistral_wire.contract.audio import AudioTranscriptionRequest
from mistral_wire.contract.catalogue import Family
from mistral_wire.sse import encode_named as event
from mockserver.sources.synthetic import prose, seeds

WORDS_PER_SECOND = 2.5
LEAD_IN = 0.1
AUDIO_TOKENS_PER_WINDOW = 375
WINDOW_SECONDS = 30


def _sentences(seed: int, seconds: float) -> list[str]:
    """Whole sentences of the corpus, about as many words as the audio holds."""
    wanted = max(1, round(seconds * WORDS_PER_SECOND)) if seconds >= 0.5 else 0
    corpus = prose.corpus()
    picks = seeds.numbers(seed)
    chosen: list[str] = []
    count = 0
    while count < wanted:
        sentence = corpus[next(picks) % len(corpus)]
        chosen.append(sentence)
        count += len(sentence.split())
    return chosen


def _timed(pieces: list[str], seconds: float) -> list[tuple[str, float, float]]:
    """Each piece with a start and an end, in proportion to its words, within the audio."""
    start = min(LEAD_IN, seconds / 10)
    span = max(seconds - start, 0.0)
    total = sum(len(piece.split()) for piece in pieces) or 1
    timed = []
    at = start
    for piece in pieces:
        length = span * len(piece.split()) / total
        begin, end = round(at, 1), min(round(at + length, 1), math.floor(seconds * 10) / 10)
        timed.append((piece, begin, max(end, begin)))
        at += length
    return timed


def answer(
    request: AudioTranscriptionRequest, family: Family, seconds: float, audio_digest: str
) -> dict[str, Any]:
    """The whole answer for an audio of ``seconds``, identified by ``audio_digest``."""
    seed = seeds.request_seed("transcription", [request.model, audio_digest])
    sentences = _sentences(seed, seconds)
    text = " ".join(sentences)
    granularities = set(request.timestamp_granularities)
    segments: list[dict[str, Any]] = []
    if granularities or request.diarize:
        pieces = text.split() if "word" in granularities else sentences
        speakers = list(request.speaker_references or {}) or ["speaker_1"]
        for index, (piece, start, end) in enumerate(_timed(pieces, seconds)):
            segment: dict[str, Any] = {
                "type": "transcription_segment",
                "text": piece if index == 0 else " " + piece,
                "start": start,
                "end": end,
            }
            if request.diarize:
                segment["speaker_id"] = speakers[index % len(speakers)]
            segments.append(segment)
    return {
        "model": request.model,
        "text": text,
        "language": None,
        "segments": segments,
        "usage": usage(request, family, seconds, text),
        "finish_reason": None,
    }


def usage(request: AudioTranscriptionRequest, family: Family, seconds: float, text: str) -> dict[str, Any]:
    audio = AUDIO_TOKENS_PER_WINDOW * max(1, math.ceil(seconds / WINDOW_SECONDS))
    prompt = 3 + (2 if request.language else 0)
    completion = tokens.count(text, family.tokenizer) if text else 0
    return {
        "prompt_audio_seconds": max(1, int(seconds)),
        "prompt_tokens": prompt,
        "total_tokens": prompt + audio + completion,
        "completion_tokens": completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": audio},
        "service_tier": "standard",
    }


def events(body: dict[str, Any], language: str | None) -> list[bytes]:
    """The stream of an answer (``language``: the hint, else English, for ``transcription.language``)."""
    out = [
        event(
            "transcription.language", {"type": "transcription.language", "audio_language": language or "en"}
        )
    ]
    words = body["text"].split(" ")
    for index, word in enumerate(words):
        if word:
            piece = word if index == 0 else " " + word
            out.append(event("transcription.text.delta", {"type": "transcription.text.delta", "text": piece}))
    for segment in body["segments"]:
        streamed = {"type": "transcription.segment", **{k: v for k, v in segment.items() if k != "type"}}
        out.append(event("transcription.segment", streamed))
    done = {"type": "transcription.done", **{k: v for k, v in body.items() if k != "finish_reason"}}
    out.append(event("transcription.done", done))
    return out
