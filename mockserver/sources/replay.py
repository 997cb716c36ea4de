"""Replay: answer from a recording, byte for byte, with SSE events at their recorded offsets.

``speed`` scales the offsets (2 plays twice as fast, 0 sends everything at once). Offsets are measured
from the moment the request arrived, as they were when recorded, and every event waits for its absolute
deadline, so timing error does not build up along a stream.

A replayed error is Mistral's own answer, sent as recorded; with ``--name-replayed-errors`` (the pytest
plugin's choice) its message ends with the recording's file, so a test that fails on an error it got from
a recording says which file to delete or re-record.

``MissSource`` ends replay mode's chain: a request no recording matched gets Mistral's refusal when Mistral
would refuse it (the contract's verdict), and otherwise a 404 that names the closest recording and the
fields that differ from it, with both values.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from mistral_wire.contract.errors import MistralError, envelope
from mockserver import render
from mockserver.recording import matching
from mockserver.recording.format import Recording
from mockserver.recording.store import RecordingStore
from mockserver.render import Rendered
from mockserver.sources import RECORDING_HEADER, Call, Problem
from mockserver.validation import Refused

MISS_STATUS = 404  # a 4xx that SDKs do not retry, unlike 408, 409, 429 and 5xx


def _offsets(recording: Recording, speed: float) -> Iterator[tuple[float, bytes]]:
    scale = 0.0 if speed <= 0 else 1.0 / speed
    return ((offset * scale, data) for offset, data in recording.event_bytes())


class ReplaySource:
    """Answers with the next recording of the same request, if there is one."""

    def __init__(
        self,
        store: RecordingStore,
        spend_tokens: bool = True,
        problems: list[Problem] | None = None,
        name_errors: bool = False,
    ) -> None:
        self.store = store
        self.spend_tokens = spend_tokens
        self.problems = problems if problems is not None else []
        self.name_errors = name_errors

    async def answer(self, call: Call) -> web.StreamResponse | None:
        # The bytes as sent when there is no form: parsed once here, never re-serialised to be compared.
        sent = call.raw if call.form is None else call.body()
        path, query, body = self.store.as_saved(
            call.path, call.request.rel_url.raw_query_string, sent, [call.request_bearer]
        )
        found = self.store.find(call.method, path, query, body)
        if found is None:
            return None
        where, recording = found
        headers = {**call.tagged("replay"), RECORDING_HEADER: self.store.name_of(where)}
        if self.spend_tokens:
            call.limiter.spend(call.key, recording.cost)
            headers.update(call.limiter.headers(call.key))
        if recording.status >= 400:
            shown = shown_path(where)
            self.problems.append(
                Problem(
                    "replayed-error",
                    f"{call.method} {call.path} got {recording.status} from recording {shown}",
                )
            )
            if self.name_errors and not recording.is_stream and recording.response_body is not None:
                named = named_error(recording.response_body.to_bytes(), shown)
                return render.raw(recording.status, named, {**headers, **recording.response_headers})
        return await send(call, recording, headers, self.store.root)


def shown_path(path: Path) -> str:
    """A recording's file as a person finds it: relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def named_error(body: bytes, recording: str) -> bytes:
    """An error body whose message ends with the recording it was replayed from; other bodies unchanged.

    Mistral's messages are a string (the envelope, the gateway's body) or, for a 422, pydantic's details
    (wrapped or bare): the note goes on the string, or on the last detail's ``msg``, which every client
    shows (the shim makes them ``messages[0].name: Extra inputs are not permitted``)."""
    note = f" (replayed from {recording})"
    try:
        value: Any = json.loads(body)
    except ValueError:
        return body
    if not isinstance(value, dict):
        return body
    target: Any = value
    message = value.get("message")
    if isinstance(message, str):
        value["message"] = message + note
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    if isinstance(message, dict):
        target = message
    details = target.get("detail")
    if isinstance(details, list) and details and isinstance(details[-1], dict):
        details[-1]["msg"] = str(details[-1].get("msg", "")) + note
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return body


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
        return render.raw(recording.status, recording.body_bytes, headers)
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

    def __init__(self, store: RecordingStore, problems: list[Problem] | None = None) -> None:
        self.store = store
        # Every request that no recording matched, in order (the pytest plugin fails the test with them,
        # even when the test never looked at the 404 it got).
        self.problems = problems if problems is not None else []

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
        self.problems.append(Problem("miss", error.body["message"]))
        return call.refuse(Rendered.of(error), "miss")


SHOWN_FIELDS = 6


def miss(method: str, path: str, closest: tuple[str, list[matching.Difference]] | None) -> MistralError:
    """No recording matched: say so, and name the closest recording and what differs, with both values."""
    message = f"No recording matched {method} {path}."
    if closest is not None:
        name, found = closest
        parts = [
            f"{where} (asked {matching.shown(asked)}, recorded {matching.shown(recorded)})"
            for where, asked, recorded in found[:SHOWN_FIELDS]
        ]
        if len(found) > SHOWN_FIELDS:
            parts.append(f"and {len(found) - SHOWN_FIELDS} more")
        shown = "; ".join(parts) or "none (already replayed)"
        message += f" Closest recording: {name}; fields that differ: {shown}."
    else:
        message += " There is no recording of this route."
    return MistralError(MISS_STATUS, envelope(message, "recording_not_found", None))
