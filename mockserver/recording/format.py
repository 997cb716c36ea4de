"""One recorded interaction and its file format: the product people read and diff in code review.

A recording is one pretty-printed JSON file: the request (method, path, query, the headers that matter,
the JSON body as JSON), the response (status, allow-listed headers, the JSON body as JSON, or the list of
SSE events, each with its offset in milliseconds from the request) and metadata. Keys keep the order in
which they arrived, so a replay re-serialises every body and event exactly as Mistral sent it: compact
separators and raw UTF-8. Where that would not reproduce the original bytes (a pretty-printed gateway
body, a non-JSON body), the exact text is stored instead under ``text``, and ``text`` is what is sent.

Binary answers (a file's download, ``application/octet-stream``; audio) are not text a reader wants in
the file, and may be hundreds of megabytes: their bytes go beside the recordings, one file per content
(``blobs/<sha256>``), and the recording names it under ``blob`` with its size and digest. A form sent
with a file (an upload, a transcription) is recorded as its fields and each file's name, type, size and
SHA-256 (``mockserver.forms.Form.summary``), never its bytes.
"""

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mockserver import __version__

FORMAT_VERSION = 1
DONE = "[DONE]"


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Body:
    """A body as JSON (``value``) when compact JSON reproduces it exactly, else as its exact ``text``."""

    value: Any = None
    text: str | None = None

    @classmethod
    def from_bytes(cls, raw: bytes, content_type: str | None = None) -> "Body":
        if not raw:
            return cls(text="")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return cls(text=raw.decode("latin-1"))
        try:
            value = json.loads(text)
            if compact(value) == text:
                return cls(value=value)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
            pass
        return cls(text=text)

    @property
    def is_json(self) -> bool:
        return self.text is None

    def to_bytes(self) -> bytes:
        return (compact(self.value) if self.text is None else self.text).encode("utf-8")

    def parsed(self) -> Any:
        """The body as JSON where it is JSON at all (also a pretty-printed one), else None."""
        if self.text is None:
            return self.value
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):
            return None

    def dump(self, into: dict[str, Any]) -> None:
        if self.text is None:
            into["body"] = self.value
        else:
            into["text"] = self.text

    @classmethod
    def load(cls, data: dict[str, Any]) -> "Body":
        if "text" in data:
            return cls(text=data["text"])
        return cls(value=data.get("body"))


BLOBS = "blobs"


@dataclass(frozen=True)
class Blob:
    """A binary answer kept beside the recordings: its path (under the recordings' root), size and digest."""

    path: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "bytes": self.size, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Blob":
        return cls(str(data["path"]), int(data["bytes"]), str(data["sha256"]))


@dataclass(frozen=True)
class Event:
    """One SSE ``data:`` payload and when it arrived, in milliseconds after the request was sent.

    ``name`` is the event's ``event:`` field, for streams that name their events (Mistral's native
    Responses streams and its audio streams; its chat streams do not): replayed as an ``event:`` line
    before the data.
    """

    at_ms: float
    data: Body
    name: str | None = None

    def to_bytes(self) -> bytes:
        head = b"" if self.name is None else b"event: " + self.name.encode("utf-8") + b"\n"
        if self.data.text is None and self.data.value == DONE:
            return head + b"data: [DONE]\n\n"
        return head + b"data: " + self.data.to_bytes() + b"\n\n"


@dataclass(frozen=True)
class Recording:
    method: str
    path: str
    query: str
    request_headers: dict[str, str]
    request_body: Body
    status: int
    response_headers: dict[str, str]
    response_body: Body | None = None
    events: tuple[Event, ...] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    blob: Blob | None = None

    @property
    def is_stream(self) -> bool:
        return self.events is not None

    def event_bytes(self) -> Iterator[tuple[float, bytes]]:
        """Each event's offset in seconds and its bytes, encoded once per loaded recording.

        The first replay encodes each event as it is asked for, so event 0 goes out without waiting for
        the encoding of a thousand others; once a replay has gone through them all they are kept.
        """
        kept = self.__dict__.get("_event_bytes")
        if kept is not None:
            yield from kept
            return
        encoded = []
        for event in self.events or ():
            item = (event.at_ms / 1000, event.to_bytes())
            encoded.append(item)
            yield item
        self.__dict__["_event_bytes"] = tuple(encoded)

    @functools.cached_property
    def body_bytes(self) -> bytes:
        """The answer's body as sent, encoded once per loaded recording (a replayed suite sends it often)."""
        return b"" if self.response_body is None else self.response_body.to_bytes()

    @functools.cached_property
    def cost(self) -> int:
        """The tokens the recorded answer reports (``usage.total_tokens``, or ``response.usage`` in a
        Responses stream's last event), for ``--tpm`` on replay."""
        bodies = [self.response_body] if self.events is None else [e.data for e in reversed(self.events)]
        for body in bodies:
            value = body.parsed() if body is not None else None
            if isinstance(value, dict) and isinstance(value.get("response"), dict):
                value = value["response"]
            usage = value.get("usage") if isinstance(value, dict) else None
            if isinstance(usage, dict) and isinstance(total := usage.get("total_tokens"), int):
                return total
        return 0

    def to_json(self) -> dict[str, Any]:
        request: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.query:
            request["query"] = self.query
        request["headers"] = self.request_headers
        self.request_body.dump(request)
        response: dict[str, Any] = {"status": self.status, "headers": self.response_headers}
        if self.events is not None:
            response["events"] = [_event_json(event) for event in self.events]
        elif self.blob is not None:
            response["blob"] = self.blob.to_json()
        elif self.response_body is not None:
            self.response_body.dump(response)
        meta = {"format": FORMAT_VERSION, "tool": f"mistral-compat {__version__}", **self.meta}
        return {"request": request, "response": response, "meta": meta}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Recording":
        request, response = data["request"], data["response"]
        events = None
        if "events" in response:
            events = tuple(
                Event(float(e.get("at_ms", 0)), _event_body(e), _event_name(e)) for e in response["events"]
            )
        blob = Blob.from_json(response["blob"]) if "blob" in response else None
        return cls(
            method=request["method"].upper(),
            path=request["path"],
            query=request.get("query", ""),
            request_headers=dict(request.get("headers", {})),
            request_body=Body.load(request),
            status=int(response["status"]),
            response_headers=dict(response.get("headers", {})),
            response_body=None if events is not None or blob is not None else Body.load(response),
            events=events,
            meta=dict(data.get("meta", {})),
            blob=blob,
        )


def _event_json(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"at_ms": round(event.at_ms, 1)}
    if event.name is not None:
        out["event"] = event.name
    if event.data.text is None:
        out["data"] = event.data.value
    else:
        out["text"] = event.data.text
    return out


def _event_name(data: dict[str, Any]) -> str | None:
    """An event's name; files without one (every chat stream, every file before names) have none."""
    name = data.get("event")
    if name is not None and (not isinstance(name, str) or "\n" in name or "\r" in name):
        raise TypeError(f"an event name must be one line of text, not {name!r}")
    return name


def _event_body(data: dict[str, Any]) -> Body:
    return Body(text=data["text"]) if "text" in data else Body(value=data.get("data"))


def event_data(text: str) -> Body:
    """An SSE payload: ``[DONE]`` is kept as the literal string, JSON as JSON where it round-trips."""
    if text == DONE:
        return Body(value=DONE)
    return Body.from_bytes(text.encode("utf-8"))
