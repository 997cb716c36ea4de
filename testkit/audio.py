"""Real audio for tests, made here: a tone of a given length as WAV (the standard library's ``wave``)."""

import io
import math
import struct
import wave


def tone_wav(seconds: float, rate: int = 16000, frequency: float = 440.0) -> bytes:
    """A mono 16-bit WAV file of ``seconds`` of a sine tone."""
    frames = int(seconds * rate)
    samples = (int(12000 * math.sin(2 * math.pi * frequency * n / rate)) for n in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))
    return buffer.getvalue()
