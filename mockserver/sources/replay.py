"""Replay: answer from a recording, byte for byte, with SSE events at their recorded offsets.

``speed`` scales the offsets (2 plays twice as fast, 0 sends everything at once). Offsets are measured
from the moment the request arrived, as they were when recorded, and every event waits for its absolute
deadline, so timing error does not build up along a stream.

``MissSource`` ends replay mode's chain: a request no recording matched gets Mistral's refusal when Mistral
would refuse it (the contract's verdict), and otherwise a 404 that names the closest recording and the
fields that differ from it.
"""

from collections.abc import Iterator
from pathlib import Path

from aiohttp import web

from mistral_wire.contract.errors import MistralError, envelope
from mockserver import render
from mockserver.recording.format import Recording
from mockserver.recording.store import RecordingStore
from mockserver.render import Rendered
from mockserver.sources import RECORDING_HEADER, Call
from mockserver.validation import Refused

MISS_STATUS = 404  # a 4xx that SDKs do not retry, unlike 408, 409, 429 and 5xx


def _offsets(recording: Recording, speed: float) -> Iterator[tuple[float, bytes]]:
    scale = 0.0 if speed <= 0 else 1.0 / speed
    return ((offset * scale, data) for offset, data in recording.event_bytes())


class ReplaySource:
    """Answers with the next recording of the same request, if there is one."""

    def __init__(self, store: RecordingStore, spend_tokens: bool = True) -> None:
        self.store = store
        self.spend_tokens = spend_tokens

    async def answer(self, call: Call) -> web.StreamResponse | None:
        path, query, body = self.store.as_saved(
            call.path, call.request.rel_url.raw_query_string, call.body(), [call.request_bearer]
        )
        found = self.store.find(call.method, path, query, body)
        if found is None:
            return None
        where, recording = found
        headers = {**call.tagged("replay"), RECORDING_HEADER: str(where.relative_to(self.store.root))}
        if self.spend_tokens:
            call.limiter.spend(call.key, recording.cost)
            headers.update(call.limiter.headers(call.key))
        return await send(call, recording, headers, self.store.root)


async def send(
    call: Call, recording: Recording, headers: dict[str, str], root: Path | None = None
) -> web.StreamResponse:
    """The recording, as recorded: its headers win (tracing ids included), its bytes are sent unchanged (a
    blob streamed from beside the recordings)."""
    headers = {**headers, **recording.response_headers}
    if recording.blob is not None and root is not None:
        response = web.FileResponse(root / recording.blob.path, status=recording.status, headers=headers)
        return response
    if not recording.is_stream:
        assert recording.response_body is not None
        return render.raw(recording.status, recording.response_body.to_bytes(), headers)
    return await render.stream(
        call.request,
        _offsets(recording, call.settings.speed),
        headers,
        status=recording.status,
        start=call.arrived,
        disconnect_after=call.fault.disconnect_after,
        precise=True,
    )


class MissSource:
    """The end of replay mode's chain: Mistral's refusal, or a 404 that says what no recording matched."""

    def __init__(self, store: RecordingStore, misses: list[str]) -> None:
        self.store = store
        # The message of every request that no recording matched, in order (the pytest plugin fails the
        # test with them, even when the test never looked at the 404 it got).
        self.misses = misses

    async def answer(self, call: Call) -> web.StreamResponse:
        if isinstance(call.verdict, Refused):
            return call.refuse(call.verdict.refusal)
        path, _, body = self.store.as_saved(
            call.path, call.request.rel_url.raw_query_string, call.body(), [call.request_bearer]
        )
        closest = self.store.closest(call.method, path, body)
        named = None
        if closest is not None:
            named = (str(closest[0].relative_to(self.store.root)), closest[1])
        error = miss(call.method, call.path, named)
        self.misses.append(error.body["message"])
        return call.refuse(Rendered.of(error), "miss")


def miss(method: str, path: str, closest: tuple[str, list[str]] | None) -> MistralError:
    """No recording matched: say so, and name the closest recording and what differs from it."""
    message = f"No recording matched {method} {path}."
    if closest is not None:
        name, fields = closest
        shown = ", ".join(fields[:10]) + (f" and {len(fields) - 10} more" if len(fields) > 10 else "")
        message += f" Closest recording: {name}; fields that differ: {shown or 'none (already replayed)'}."
    else:
        message += " There is no recording of this route."
    return MistralError(MISS_STATUS, envelope(message, "recording_not_found", None))
