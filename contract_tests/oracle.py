"""Every answer a contract test's client receives, checked against the published spec of its protocol.

The clients of the suite are built on an httpx transport that keeps a copy of each response's bytes as the
client reads them, and, once the body is complete, validates it: the shim's answers against OpenAI's spec,
the mock's (and the live API's) against Mistral's, each stream event on its own. So no test has to remember
to check the wire: a test that only asserts ``reply.choices[0].message.content`` still fails when the shim
sends a body OpenAI's schema refuses, which a lenient SDK would have parsed anyway.

The specs live in ``../shared``; without them, nothing is validated and the ``spec`` row of the matrix says
so. Bodies the client did not read to the end are not judged.
"""

from __future__ import annotations

import array
import base64
import copy
import gzip
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

from testkit.paths import shared_dir
from testkit.spec import mistral_response_validator, openai_wire_validator

Validator = Callable[[Any], list[str]]

# (method, path pattern) -> (schema of a JSON answer, schema of each stream event); None = not judged.
OPENAI_ROUTES: dict[tuple[str, str], tuple[str, str | None]] = {
    ("POST", r"/v1/chat/completions"): ("CreateChatCompletionResponse", "CreateChatCompletionStreamResponse"),
    ("POST", r"/v1/completions"): ("CreateCompletionResponse", "CreateCompletionResponse"),
    ("POST", r"/v1/embeddings"): ("CreateEmbeddingResponse", None),
    ("GET", r"/v1/models"): ("ListModelsResponse", None),
    ("GET", r"/v1/models/[^/]+"): ("Model", None),
    # Files, batches, moderations and audio (issue 16). A file's content, speech audio and transcripts
    # as text or subtitles are not JSON and are not judged here; the tests judge what they can read.
    ("POST", r"/v1/files"): ("OpenAIFile", None),
    ("GET", r"/v1/files"): ("ListFilesResponse", None),
    ("GET", r"/v1/files/[^/]+"): ("OpenAIFile", None),
    ("DELETE", r"/v1/files/[^/]+"): ("DeleteFileResponse", None),
    ("POST", r"/v1/batches"): ("Batch", None),
    ("GET", r"/v1/batches"): ("ListBatchesResponse", None),
    ("GET", r"/v1/batches/[^/]+"): ("Batch", None),
    ("POST", r"/v1/batches/[^/]+/cancel"): ("Batch", None),
    ("POST", r"/v1/moderations"): ("CreateModerationResponse", None),
    ("POST", r"/v1/audio/transcriptions"): (
        "CreateTranscriptionResponseJson",
        "CreateTranscriptionResponseStreamEvent",
    ),
    ("POST", r"/v1/audio/speech"): ("CreateSpeechResponseStreamEvent", "CreateSpeechResponseStreamEvent"),
    # The Responses API: a Response or its events (also when a stored one is replayed), pages of input
    # items, token counts. DELETE's answer has no schema in the spec.
    ("POST", r"/v1/responses"): ("Response", "ResponseStreamEvent"),
    ("GET", r"/v1/responses/[^/]+"): ("Response", "ResponseStreamEvent"),
    ("GET", r"/v1/responses/[^/]+/input_items"): ("ResponseItemList", None),
    ("POST", r"/v1/responses/input_tokens"): ("TokenCountsResource", None),
    ("POST", r"/v1/responses/[^/]+/cancel"): ("Response", None),
}
PASSED_THROUGH = re.compile(r"/v1/ocr|/mistral(?P<path>/v1/.+)")
"""What the shim passes to Mistral untranslated: its answers (and errors) are Mistral's on every target."""
TRANSCRIPTION_EVENTS = {
    "transcription.language": "TranscriptionStreamLanguage",
    "transcription.text.delta": "TranscriptionStreamTextDelta",
    "transcription.segment": "TranscriptionStreamSegmentDelta",
    "transcription.done": "TranscriptionStreamDone",
}
"""Mistral's transcription stream: each event's data by its ``type`` (the spec's oneOf members)."""
MISTRAL_ROUTES: dict[tuple[str, str], tuple[str, str | dict[str, str] | None]] = {
    ("POST", r"/v1/chat/completions"): ("ChatCompletionResponse", "CompletionChunk"),
    ("POST", r"/v1/fim/completions"): ("FIMCompletionResponse", "CompletionChunk"),
    ("POST", r"/v1/embeddings"): ("EmbeddingResponse", None),
    ("POST", r"/v1/ocr"): ("OCRResponse", None),
    ("GET", r"/v1/models"): ("ModelList", None),
    ("POST", r"/v1/files"): ("CreateFileResponse", None),
    ("GET", r"/v1/files"): ("ListFilesResponse", None),
    ("GET", r"/v1/files/[^/]+"): ("GetFileResponse", None),
    ("DELETE", r"/v1/files/[^/]+"): ("DeleteFileResponse", None),
    ("GET", r"/v1/files/[^/]+/url"): ("GetSignedUrlResponse", None),
    ("POST", r"/v1/batch/jobs"): ("BatchJob", None),
    ("GET", r"/v1/batch/jobs"): ("ListBatchJobsResponse", None),
    ("GET", r"/v1/batch/jobs/[^/]+"): ("BatchJob", None),
    ("POST", r"/v1/batch/jobs/[^/]+/cancel"): ("BatchJob", None),
    ("DELETE", r"/v1/batch/jobs/[^/]+"): ("DeleteBatchJobResponse", None),
    ("POST", r"/v1/moderations"): ("ModerationResponse", None),
    ("POST", r"/v1/chat/moderations"): ("ModerationResponse", None),
    ("POST", r"/v1/classifications"): ("ClassificationResponse", None),
    ("POST", r"/v1/chat/classifications"): ("ClassificationResponse", None),
    ("POST", r"/v1/audio/transcriptions"): ("TranscriptionResponse", TRANSCRIPTION_EVENTS),
}


def _openai_body(schema: str, body: Any) -> Any:
    """What OpenAI's schema can judge: base64 vectors decoded, a legacy chunk's pending finish_reason set.

    The spec's Embedding only knows float lists (base64 is described on the request alone), and it reuses
    CreateCompletionResponse for legacy stream chunks, whose own example shows ``finish_reason: null``.
    """
    if schema == "CreateEmbeddingResponse" and isinstance(body, dict):
        body = copy.deepcopy(body)
        for item in body.get("data") or []:
            if isinstance(item, dict) and isinstance(item.get("embedding"), str):
                item["embedding"] = array.array("f", base64.b64decode(item["embedding"])).tolist()
    legacy = isinstance(body, dict) and body.get("object") == "text_completion"
    if schema == "CreateCompletionResponse" and legacy:
        body = copy.deepcopy(body)
        for choice in body.get("choices") or []:
            if isinstance(choice, dict) and choice.get("finish_reason") is None:
                choice["finish_reason"] = "stop"
    return body


@dataclass
class Verdict:
    """What the oracle found over one test: the bodies it judged and the ones it refused."""

    judged: int = 0
    problems: list[str] = field(default_factory=list)


class Oracle:
    """Judges complete response bodies for one target: OpenAI's spec behind the shim, Mistral's without
    (and for what the shim passes through untranslated)."""

    def __init__(self, openai_protocol: bool) -> None:
        self.openai_protocol = openai_protocol
        self.enabled = shared_dir() is not None
        self.verdict = Verdict()

    def reset(self) -> Verdict:
        verdict, self.verdict = self.verdict, Verdict()
        return verdict

    @staticmethod
    def _schemas(openai: bool, method: str, path: str) -> tuple[str, str | dict[str, str] | None] | None:
        routes: dict[tuple[str, str], tuple[str, str | dict[str, str] | None]]
        routes = dict(OPENAI_ROUTES) if openai else MISTRAL_ROUTES
        for (route_method, pattern), schemas in routes.items():
            if method == route_method and re.fullmatch(pattern, path):
                return schemas
        return None

    def _check(self, openai: bool, schema: str, body: Any, where: str) -> None:
        if openai:
            errors = openai_wire_validator(schema)(_openai_body(schema, body))
        else:
            errors = mistral_response_validator(schema)(body)
        self.verdict.judged += 1
        self.verdict.problems.extend(f"{where}: {schema}: {error}" for error in errors[:5])

    def judge(self, request: httpx.Request, response: httpx.Response, raw: bytes) -> None:
        """Validate one complete answer; error answers are judged against OpenAI's ErrorResponse."""
        if not self.enabled:
            return
        path = request.url.path
        where = f"{request.method} {path} -> {response.status_code}"
        openai = self.openai_protocol
        if (passed := PASSED_THROUGH.fullmatch(path)) is not None:
            openai, path = False, passed["path"] or path
        if response.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        kind = response.headers.get("content-type", "")
        if response.status_code >= 400:
            if openai and "json" in kind:
                self._check(openai, "ErrorResponse", _json(raw, where, self.verdict), where)
            return
        schemas = self._schemas(openai, request.method, path)
        if schemas is None or response.status_code != 200:
            return
        answer, event = schemas
        if kind.startswith("text/event-stream"):
            for index, data in enumerate(_events(raw)):
                if data == "[DONE]":
                    continue
                payload = _json(data.encode(), f"{where} event {index}", self.verdict)
                if isinstance(payload, dict) and "error" in payload and openai:
                    self._check(openai, "ErrorResponse", payload, f"{where} event {index}")
                elif isinstance(event, dict):
                    # Events of several kinds, each judged by its own schema (named by its ``type``).
                    kind = payload.get("type") if isinstance(payload, dict) else None
                    if kind not in event:
                        self.verdict.problems.append(f"{where} event {index}: unknown event type {kind!r}")
                    else:
                        self._check(openai, event[kind], payload, f"{where} event {index}")
                elif event is not None:
                    self._check(openai, event, payload, f"{where} event {index}")
        elif "json" in kind:
            self._check(openai, answer, _json(raw, where, self.verdict), where)

    def transport(self) -> httpx.HTTPTransport:
        return _SyncTee(self)

    def async_transport(self) -> httpx.AsyncHTTPTransport:
        return _AsyncTee(self)


def _json(raw: bytes, where: str, verdict: Verdict) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        verdict.problems.append(f"{where}: not JSON: {raw[:200]!r}")
        return None


def _events(raw: bytes) -> Iterator[str]:
    """The ``data:`` payload of every complete SSE event (an unfinished last event is left out)."""
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    for block in text.split("\n\n")[:-1]:
        data = [line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")]
        if data:
            yield "\n".join(data)


class _Copy:
    """The bytes of one response as the client reads them, judged once: at the body's end or at close.

    Closing counts because a client may stop early on purpose (the openai SDK closes a stream once it has
    read ``[DONE]``); ``_events`` leaves out an event the client did not read to its end. The copy lives on
    the stream object, not in one iteration, because the async SDK iterates a stream a second time to
    drain it.
    """

    def __init__(self, oracle: Oracle, request: httpx.Request, response: httpx.Response) -> None:
        self._oracle, self._request, self._response = oracle, request, response
        self._chunks: list[bytes] = []
        self._judged = False

    def keep(self, chunk: bytes) -> bytes:
        self._chunks.append(chunk)
        return chunk

    def judge(self, complete: bool) -> None:
        if self._judged:
            return
        self._judged = True
        streamed = self._response.headers.get("content-type", "").startswith("text/event-stream")
        if complete or streamed:
            self._oracle.judge(self._request, self._response, b"".join(self._chunks))


class _SyncTee(httpx.HTTPTransport):
    def __init__(self, oracle: Oracle) -> None:
        super().__init__()
        self._oracle = oracle

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        copy, inner = _Copy(self._oracle, request, response), response.stream

        class Tee(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                for chunk in inner:  # type: ignore[union-attr]
                    yield copy.keep(chunk)
                copy.judge(complete=True)

            def close(self) -> None:
                inner.close()  # type: ignore[union-attr]
                copy.judge(complete=False)

        response.stream = Tee()
        return response


class _AsyncTee(httpx.AsyncHTTPTransport):
    def __init__(self, oracle: Oracle) -> None:
        super().__init__()
        self._oracle = oracle

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        copy, inner = _Copy(self._oracle, request, response), response.stream

        class Tee(httpx.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                async for chunk in inner:  # type: ignore[union-attr]
                    yield copy.keep(chunk)
                copy.judge(complete=True)

            async def aclose(self) -> None:
                await inner.aclose()  # type: ignore[union-attr]
                copy.judge(complete=False)

        response.stream = Tee()
        return response
