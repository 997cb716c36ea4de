"""Server-Sent Events as Mistral frames them: ``data: <compact JSON>\\n\\n`` events, then ``data: [DONE]``.

Mistral's audio endpoints frame theirs differently: each event has an ``event:`` line naming its kind, and
there is no ``[DONE]`` (the spec's ``TranscriptionStreamEvents``; its SDK parses the name); ``encode_named``
writes those and ``NamedEvents`` reads any stream with the names kept.

One writer (``encode``) and one incremental reader (``DataLines``), for every stream either server reads
or writes: the shim relaying Mistral's stream, the mock's synthetic and replayed streams, the recorder
splitting a live stream into events. Pacing (when each event is sent) is the mock's business, not the
wire's.
"""

from typing import Any

from mistral_wire import jsonio

MEDIA_TYPE = "text/event-stream"
CONTENT_TYPE = f"{MEDIA_TYPE}; charset=utf-8"
DONE = b"data: [DONE]\n\n"
DONE_PAYLOAD = "[DONE]"


def encode(event: Any) -> bytes:
    """One event in Mistral's bytes (Python's compact JSON), for the mock."""
    return b"data: " + jsonio.compact_bytes(event) + b"\n\n"


def encode_named(name: str, event: Any) -> bytes:
    """One event with its ``event:`` line, as Mistral's transcription and speech streams send them."""
    return b"event: " + name.encode() + b"\ndata: " + jsonio.compact_bytes(event) + b"\n\n"


def encode_fast(event: Any) -> bytes:
    """One event through the fast codec, for the shim's translated streams."""
    return b"data: " + jsonio.dumps(event) + b"\n\n"


class DataLines:
    """Reads an SSE byte stream incrementally: bytes in, the complete events' ``data`` payloads out.

    An event split across network reads, ``\\r\\n`` line ends and multi-line ``data:`` fields are handled
    here, once, for every reader.
    """

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[str]:
        self._pending += data.replace(b"\r\n", b"\n")
        found = []
        while b"\n\n" in self._pending:
            block, self._pending = self._pending.split(b"\n\n", 1)
            payload = _payload(block)
            if payload is not None:
                found.append(payload)
        return found

    def close(self) -> list[str]:
        """What is left when the stream ends: an event without its final blank line, if any."""
        block, self._pending = self._pending, b""
        payload = _payload(block) if block.strip() else None
        return [payload] if payload is not None else []

    @property
    def partial(self) -> bool:
        """Whether the stream stopped in the middle of an event."""
        return bool(self._pending.strip())


class NamedEvents:
    """``DataLines`` that keeps each event's ``event:`` name (None when it has none): ``(name, data)``."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[tuple[str | None, str]]:
        self._pending += data.replace(b"\r\n", b"\n")
        found = []
        while b"\n\n" in self._pending:
            block, self._pending = self._pending.split(b"\n\n", 1)
            event = _named(block)
            if event is not None:
                found.append(event)
        return found

    def close(self) -> list[tuple[str | None, str]]:
        block, self._pending = self._pending, b""
        event = _named(block) if block.strip() else None
        return [event] if event is not None else []


def _named(block: bytes) -> tuple[str | None, str] | None:
    payload = _payload(block)
    if payload is None:
        return None
    names = [line[6:].strip() for line in block.split(b"\n") if line.startswith(b"event:")]
    return (names[-1].decode("utf-8", "replace") if names else None), payload


def _payload(block: bytes) -> str | None:
    lines = [line[5:].removeprefix(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines).decode("utf-8", "replace") if lines else None
