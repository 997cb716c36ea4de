"""Server-Sent Events as Mistral frames them: ``data: <compact JSON>\\n\\n`` events, then ``data: [DONE]``.

One writer (``encode``) and one incremental reader (``DataLines``), for every stream either server reads
or writes: the shim relaying Mistral's stream, the mock's synthetic and replayed streams, the recorder
splitting a live stream into events. Pacing (when each event is sent) is the mock's business, not the
wire's.

Mistral's native Responses streams and its audio streams (transcription, speech) name their events
instead: an ``event: <type>`` line before each ``data:`` line, and no ``[DONE]``; mistralai's SDK parses
the name and refuses a frame without it. ``encode_event`` writes one, and ``Frames`` reads events with
their names, for the recorder.
"""

from dataclasses import dataclass
from typing import Any

from mistral_wire import jsonio

MEDIA_TYPE = "text/event-stream"
CONTENT_TYPE = f"{MEDIA_TYPE}; charset=utf-8"
DONE = b"data: [DONE]\n\n"
DONE_PAYLOAD = "[DONE]"


def encode(event: Any) -> bytes:
    """One event in Mistral's bytes (Python's compact JSON), for the mock."""
    return b"data: " + jsonio.compact_bytes(event) + b"\n\n"


def encode_event(name: str, event: Any) -> bytes:
    """One named event, ``event: <name>`` then its compact JSON data (the Responses and audio streams)."""
    return b"event: " + name.encode() + b"\ndata: " + jsonio.compact_bytes(event) + b"\n\n"


def encode_fast(event: Any) -> bytes:
    """One event through the fast codec, for the shim's translated streams."""
    return b"data: " + jsonio.dumps(event) + b"\n\n"


class _Blocks:
    """Cuts an SSE byte stream into its events' blocks as they complete (``\\r\\n`` line ends as ``\\n``)."""

    def __init__(self) -> None:
        self._pending = b""

    def _complete(self, data: bytes) -> list[bytes]:
        self._pending += data.replace(b"\r\n", b"\n")
        blocks = []
        while b"\n\n" in self._pending:
            block, self._pending = self._pending.split(b"\n\n", 1)
            blocks.append(block)
        return blocks

    def _rest(self) -> list[bytes]:
        block, self._pending = self._pending, b""
        return [block] if block.strip() else []

    @property
    def partial(self) -> bool:
        """Whether the stream stopped in the middle of an event."""
        return bool(self._pending.strip())


class DataLines(_Blocks):
    """Reads an SSE byte stream incrementally: bytes in, the complete events' ``data`` payloads out.

    An event split across network reads, ``\\r\\n`` line ends and multi-line ``data:`` fields are handled
    here, once, for every reader.
    """

    def feed(self, data: bytes) -> list[str]:
        return [payload for payload in map(_payload, self._complete(data)) if payload is not None]

    def close(self) -> list[str]:
        """What is left when the stream ends: an event without its final blank line, if any."""
        return [payload for payload in map(_payload, self._rest()) if payload is not None]


@dataclass(frozen=True)
class Frame:
    """One event: its ``data`` payload and its ``event`` name (None where the stream names none)."""

    data: str
    event: str | None = None


class Frames(_Blocks):
    """Like ``DataLines``, with each event's name: bytes in, complete ``Frame`` values out."""

    def feed(self, data: bytes) -> list[Frame]:
        return [frame for frame in map(_frame, self._complete(data)) if frame is not None]

    def close(self) -> list[Frame]:
        return [frame for frame in map(_frame, self._rest()) if frame is not None]


def _payload(block: bytes) -> str | None:
    lines = [line[5:].removeprefix(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines).decode("utf-8", "replace") if lines else None


def _field(line: bytes, name: bytes) -> bytes | None:
    """The value of a ``name:`` line (one leading space dropped), or None for another line."""
    if not line.startswith(name + b":"):
        return None
    return line[len(name) + 1 :].removeprefix(b" ")


def _frame(block: bytes) -> Frame | None:
    """A block's data lines joined, and its last ``event:`` value; None for a block without data."""
    lines = []
    name: bytes | None = None
    for line in block.split(b"\n"):
        if (value := _field(line, b"data")) is not None:
            lines.append(value)
        elif (value := _field(line, b"event")) is not None:
            name = value
    if not lines:
        return None
    data = b"\n".join(lines).decode("utf-8", "replace")
    return Frame(data, name.decode("utf-8", "replace") if name is not None else None)
