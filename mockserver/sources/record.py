"""Record mode: forward a request to the real API, stream the answer back as it arrives, keep a copy.

The client sees every byte when the upstream sends it (nothing is buffered on the way), while the copy
collects the body, or each SSE event with the moment it completed. Credentials never travel in the copy;
upstream, the configured ``MISTRAL_API_KEY`` is used, or else the client's own bearer. The copy is saved
(``RecordingStore.save``, in a thread) unless a test forced the answer with ``x-mock-fault``.

A recording is replayed for as long as it exists, so a mistake of the setup must never become one: an
upstream 401 or 403 (no key, a wrong key), a 404 "no Route matched" (a base URL ending in ``/v1`` gives
``/v1/v1/...``), a refused connection or a timeout is not saved. The client gets an error that says the
cause in plain words, and the mock notes it as a problem (the pytest plugin fails the test with it).
Errors a request provokes on purpose (a 422 for a bad body, an unknown model) are Mistral's answers, and
are saved and replayed like any other.
"""

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from mistral_wire import scrub
from mistral_wire.contract.errors import MistralError, envelope
from mistral_wire.http import HOP_BY_HOP, base_url, bearer, forwardable
from mistral_wire.sse import Frame, Frames
from mockserver.faults import HEADER as FAULT_HEADER
from mockserver.forms import Form
from mockserver.recording.blobs import BlobWriter, is_binary
from mockserver.recording.format import Body, Event, Recording, event_data
from mockserver.recording.store import RecordingStore
from mockserver.render import Rendered
from mockserver.sources import SOURCE_HEADER, Call, Problem

log = logging.getLogger("mockserver.recording")
# The ids a proxied answer carries when the upstream sends none of its own.
TRACING = frozenset({"mistral-correlation-id", "x-kong-request-id"})
# aiohttp decodes compressed bodies, so what reaches the client (and the recording) is decoded.
NOT_PASSED_BACK = HOP_BY_HOP | {"content-encoding", "set-cookie"}


class EventSplitter:
    """Cuts a byte stream into SSE events as they complete, noting when each one did, and its name (the
    ``event:`` field) where the stream names its events."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.frames = Frames()
        self.events: list[Event] = []

    def feed(self, data: bytes) -> None:
        self._add(self.frames.feed(data))

    def close(self) -> None:
        self._add(self.frames.close())

    def _add(self, frames: list[Frame]) -> None:
        at_ms = (time.monotonic() - self.started) * 1000
        self.events.extend(Event(at_ms, event_data(frame.data), frame.event) for frame in frames)


# Statuses whose body is read before anything is sent on, to tell a mistake of the setup from an answer.
CHECKED = frozenset({401, 403, 404})
NO_ROUTE = "no Route matched"


class Refused(Exception):
    """An upstream answer the recorder will not save: a mistake of the setup, said in plain words."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _detail(body: bytes) -> str:
    """The upstream's own words, short: its ``message`` (or ``detail``), else the start of the body."""
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    said = value.get("message") or value.get("detail") if isinstance(value, dict) else None
    text = said if isinstance(said, str) else body.decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return text[:80] + ("…" if len(text) > 80 else "")


def setup_mistake(status: int, body: bytes, path: str, upstream: str, keyed: bool) -> Refused | None:
    """Whether an upstream answer is a mistake of the setup rather than Mistral's answer to the request."""
    said = _detail(body)
    if status == 401:
        key = (
            "MISTRAL_API_KEY was given and refused."
            if keyed
            else "It is not set here, so the client's own key was sent upstream."
        )
        return Refused(
            401,
            f"Recording refused: the upstream answered 401 ({said}): is MISTRAL_API_KEY set? {key} "
            f"Nothing was saved (upstream {upstream}).",
            "recording_unauthorized",
        )
    if status == 403:
        return Refused(
            403,
            f"Recording refused: the upstream answered 403 ({said}): does MISTRAL_API_KEY give access to "
            f"{path}? Nothing was saved (upstream {upstream}).",
            "recording_forbidden",
        )
    if status == 404 and NO_ROUTE in said:
        if "/v1/v1/" in path + "/":
            cause = "…/v1/v1/… : drop the /v1 from the base URL the client was given (the SDK adds its own)"
        else:
            cause = "that route does not exist there: check the upstream URL and the client's base URL"
        return Refused(
            404,
            f"Recording refused: the upstream answered 404 '{NO_ROUTE}' for {upstream}{path}: {cause}. "
            "Nothing was saved.",
            "recording_no_route",
        )
    return None


async def _preceded(first: bytes | None, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The body already read to check the answer (if any), then the rest as it arrives."""
    if first is not None:
        yield first
    async for chunk in rest:
        yield chunk


def upstream_headers(request: web.Request, key: str | None) -> dict[str, str]:
    """The client's headers without its credentials (or the connection's), and the key to record with."""
    headers = forwardable(request.headers, frozenset({"accept-encoding"}))
    token = key or bearer(request.headers)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def form_payload(form: Form) -> aiohttp.FormData:
    """A form the pipeline read, sent on again: its fields, and its files streamed from disk (aiohttp reads
    them in a thread). A new boundary, the same content."""
    payload = aiohttp.FormData(default_to_multipart=form.kind == "multipart")
    for name, values in form.fields.items():
        for value in values:
            payload.add_field(name, value)
    for name, uploads in form.uploads.items():
        for upload in uploads:
            payload.add_field(
                name, upload.path.open("rb"), filename=upload.filename, content_type=upload.content_type
            )
    return payload


async def forward(
    request: web.Request,
    raw: bytes,
    session: aiohttp.ClientSession,
    upstream: str,
    key: str | None,
    defaults: Mapping[str, str] | None = None,
    form: Form | None = None,
    blobs: Path | None = None,
) -> tuple[web.StreamResponse, Recording | None]:
    """Proxy one request; return the response sent and the recording (None if the client left early).

    ``defaults`` are headers the client gets unless the upstream sent its own (the mock's tracing ids, for
    an upstream that sends none). A ``form`` is sent on rebuilt (its files from disk), and recorded as its
    summary: each file by its name, type, size and digest, never its bytes. With ``blobs`` (the recordings'
    root), a binary answer is kept there as it streams (``recording.blobs``) rather than in memory. Raises
    ``Refused`` before sending anything for a mistake of the setup."""
    started = time.monotonic()
    url = upstream.rstrip("/") + request.rel_url.raw_path
    if request.rel_url.raw_query_string:
        url += "?" + request.rel_url.raw_query_string
    sent = upstream_headers(request, key)
    data: Any = raw or None
    if form is not None:
        data = form_payload(form)
        # The rebuilt body has its own boundary and length.
        sent = {k: v for k, v in sent.items() if k.lower() not in ("content-type", "content-length")}
    async with session.request(request.method, url, data=data, headers=sent) as up:
        early: bytes | None = None
        if up.status in CHECKED:
            early = await up.read()
            mistake = setup_mistake(up.status, early, request.rel_url.raw_path, upstream, key is not None)
            if mistake is not None:
                raise mistake
        headers = CIMultiDict(defaults or {})
        for name, value in up.headers.items():
            if name.lower() not in NOT_PASSED_BACK:
                headers[name] = value
        response = web.StreamResponse(status=up.status, headers=headers)
        await response.prepare(request)
        kind = up.headers.get("Content-Type", "")
        is_stream = kind.startswith("text/event-stream")
        splitter = EventSplitter(started) if is_stream else None
        writer = BlobWriter(blobs) if blobs is not None and is_binary(kind) else None
        collected = bytearray()
        try:
            chunks = up.content.iter_any()
            async for chunk in _preceded(early, chunks):
                await response.write(chunk)
                if splitter is not None:
                    splitter.feed(chunk)
                elif writer is not None:
                    await writer.feed(chunk)
                else:
                    collected.extend(chunk)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            if writer is not None:
                await asyncio.get_running_loop().run_in_executor(None, writer.discard)
            return response, None  # the client left: a partial answer is not a fixture
        with contextlib.suppress(ConnectionResetError, aiohttp.ClientConnectionResetError):
            # The whole answer was read from upstream and sent on: a client that hangs up before the
            # final empty chunk (the shim does, once it has read [DONE]) still leaves a complete fixture.
            await response.write_eof()
    if splitter is not None:
        splitter.close()
    blob = await writer.finish() if writer is not None else None
    recording = Recording(
        method=request.method,
        path=request.rel_url.raw_path,
        query=request.rel_url.raw_query_string,
        request_headers=dict(request.headers),
        request_body=Body(value=form.summary()) if form is not None else Body.from_bytes(raw),
        status=up.status,
        response_headers=dict(up.headers),
        response_body=None if splitter is not None or blob is not None else Body.from_bytes(bytes(collected)),
        events=tuple(splitter.events) if splitter is not None else None,
        blob=blob,
        meta={
            "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "upstream": upstream,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    return response, recording


class RecordSource:
    """Answers from the upstream, and saves what it answered (never a mistake of the setup)."""

    def __init__(
        self,
        store: RecordingStore,
        upstream: str,
        key: str | None,
        problems: list[Problem] | None = None,
        read_timeout: float = 600,
    ) -> None:
        self.store = store
        self.upstream = base_url(upstream)
        self.key = key
        self.problems = problems if problems is not None else []
        self.read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=self.read_timeout)
        self._session = aiohttp.ClientSession(timeout=timeout, auto_decompress=True)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _refuse(self, call: Call, refused: Refused) -> web.Response:
        self.problems.append(Problem("recording", refused.message))
        log.warning("%s", scrub.text(refused.message, [*self.store.secrets, call.request_bearer]))
        error = MistralError(refused.status, envelope(refused.message, "recording_refused", refused.code))
        return call.refuse(Rendered.of(error), "refused")

    async def answer(self, call: Call) -> web.StreamResponse:
        assert self._session is not None, "RecordSource.start() was not awaited"
        try:
            tracing = {k: v for k, v in call.headers.items() if k.lower() in TRACING}
            tracing[SOURCE_HEADER] = "record"
            response, recording = await forward(
                call.request,
                call.raw,
                self._session,
                self.upstream,
                self.key,
                tracing,
                call.form,
                self.store.root,
            )
        except Refused as refused:
            return self._refuse(call, refused)
        except TimeoutError:  # first: aiohttp's read timeout is a ClientConnectionError too
            message = (
                f"Recording failed: the upstream {self.upstream} did not answer within "
                f"{self.read_timeout:g} s. Nothing was saved."
            )
            return self._refuse(call, Refused(504, message, "upstream_timeout"))
        except aiohttp.ClientConnectionError as exc:
            reason = f"{exc.__class__.__name__}: {exc}"
            message = (
                f"Recording failed: the upstream {self.upstream} could not be reached ({reason}): is the "
                "upstream URL right (MISTRAL_BASE_URL, --upstream or --mistral-upstream)? Nothing was saved."
            )
            return self._refuse(call, Refused(502, message, "upstream_unreachable"))
        if recording is not None and FAULT_HEADER not in call.request.headers:
            # An answer a test forced with x-mock-fault is not Mistral's: saved, it would be replayed to the
            # same request without the header (faults are not part of matching), and replays apply the
            # header's faults themselves.
            save = functools.partial(self.store.save, recording, extra_secrets=[call.request_bearer])
            path = await asyncio.get_running_loop().run_in_executor(None, save)
            shown = scrub.text(call.path, [*self.store.secrets, call.request_bearer])
            log.info("recorded %s %s -> %s", call.method, shown, path)
        return response
