"""Replay: answer from a recording, byte for byte, with SSE events at their recorded offsets.

``speed`` scales the offsets (2 plays twice as fast, 0 sends everything at once). Offsets are measured
from the moment the request arrived, as they were when recorded, and every event waits for its absolute
deadline, so timing error does not build up along a stream.
"""

from collections.abc import Iterator

from aiohttp import web

from mistral_wire.contract.errors import MistralError, envelope
from mockserver import sse
from mockserver.recording.model import Recording

MISS_STATUS = 404  # a 4xx that SDKs do not retry, unlike 408, 409, 429 and 5xx


def _offsets(recording: Recording, speed: float) -> Iterator[tuple[float, bytes]]:
    scale = 0.0 if speed <= 0 else 1.0 / speed
    return ((offset * scale, data) for offset, data in recording.event_bytes())


async def send(
    request: web.Request,
    recording: Recording,
    speed: float,
    extra_headers: dict[str, str],
    arrived: float,
    disconnect_after: int | None = None,
) -> web.StreamResponse:
    # The recorded headers win: a replay answers as the recorded answer did, tracing ids included.
    headers = {**extra_headers, **recording.response_headers}
    if not recording.is_stream:
        assert recording.response_body is not None
        return web.Response(status=recording.status, body=recording.response_body.to_bytes(), headers=headers)
    headers.setdefault("content-type", sse.CONTENT_TYPE)
    response = web.StreamResponse(status=recording.status, headers=headers)
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        await sse.send(
            response,
            _offsets(recording, speed),
            start=arrived,
            disconnect_after=disconnect_after,
            transport=request.transport,
            precise=True,
        )
    except sse.Disconnected:
        return response
    await response.write_eof()
    return response


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
