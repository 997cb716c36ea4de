"""Mistral's contract applied to a request, in every mode: a verdict, accepted or refused, as a value.

The schema (Mistral's request models, 422) and the semantic checks (mistral-common and the catalogue, 400)
of ``mistral_wire.contract`` run before any source answers, so a request Mistral would refuse is refused
in replay mode too, when no recording answers it, and never reaches the synthetic generator. A refusal is
kept rendered (status, headers, bytes): verdicts are cached, and a cache must hold no exception object.

Two kinds of request are judged. A JSON body for a model (chat, FIM, embeddings, OCR, moderation,
classification, speech) is ``Accepted`` with its model family. A request about a resource (a file, a batch
job) is ``Routed``: its route's name, and its path, query and body parameters parsed as FastAPI parses them
(path and query errors located at ``["path", ...]`` and ``["query", ...]``, all of a request's errors in one
422). Forms (an upload, a transcription) are judged from the form the pipeline read, whose file parts are on
disk by then (``mockserver.forms``).
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from mistral_wire.contract import semantics
from mistral_wire.contract.audio import (
    AudioTranscriptionRequest,
    AudioTranscriptionRequestStream,
    SpeechRequest,
)
from mistral_wire.contract.batch import (
    BatchJobPath,
    CreateBatchJobRequest,
    GetBatchJobQuery,
    ListBatchJobsQuery,
)
from mistral_wire.contract.catalogue import Family
from mistral_wire.contract.classifiers import (
    ChatClassificationRequest,
    ChatModerationRequest,
    ClassificationRequest,
)
from mistral_wire.contract.errors import MistralError, ValidationShape, validation_failed
from mistral_wire.contract.files import FilePath, ListFilesQuery, SignedUrlQuery, UploadFileForm
from mistral_wire.contract.parsing import as_bool, parse_form, parse_params, parse_request
from mistral_wire.contract.requests import (
    ChatCompletionRequest,
    EmbeddingRequest,
    FIMCompletionRequest,
    OCRRequest,
)
from mockserver.forms import Form
from mockserver.render import Rendered


@dataclass(frozen=True)
class Accepted:
    """A request Mistral would accept: the contract model, the decoded JSON, and the model family."""

    path: str
    request: BaseModel
    payload: Any
    family: Family


@dataclass(frozen=True)
class Routed:
    """A request about a resource (a file, a batch job) Mistral would accept: the route's name and its
    parameters, each parsed by the contract (None where the route takes none)."""

    route: str
    path: Any = None
    query: Any = None
    body: Any = None


@dataclass(frozen=True)
class Refused:
    """A request Mistral would refuse, with the refusal it would send."""

    refusal: Rendered


Verdict = Accepted | Routed | Refused


@dataclass(frozen=True)
class Incoming:
    """What the contract judges of one request."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]] = field(default_factory=dict)
    raw: bytes = b""
    content_type: str | None = None
    form: Form | None = None


def _chat(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(ChatCompletionRequest, raw, content_type)
    return Accepted("/v1/chat/completions", request, payload, semantics.check_chat(request))


def _fim(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(FIMCompletionRequest, raw, content_type)
    return Accepted("/v1/fim/completions", request, payload, semantics.check_fim(request.model))


def _embeddings(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(EmbeddingRequest, raw, content_type)
    return Accepted("/v1/embeddings", request, payload, semantics.check_embeddings(request))


def _ocr(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(OCRRequest, raw, content_type)
    return Accepted("/v1/ocr", request, payload, semantics.check_ocr(request.model))


def _moderations(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(ClassificationRequest, raw, content_type)
    return Accepted("/v1/moderations", request, payload, semantics.check_moderation(request.model))


def _chat_moderations(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(ChatModerationRequest, raw, content_type)
    return Accepted("/v1/chat/moderations", request, payload, semantics.check_moderation(request.model))


def _classifications(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(ClassificationRequest, raw, content_type)
    return Accepted("/v1/classifications", request, payload, semantics.check_classification(request.model))


def _chat_classifications(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(ChatClassificationRequest, raw, content_type)
    family = semantics.check_classification(request.model)
    return Accepted("/v1/chat/classifications", request, payload, family)


def _speech(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(SpeechRequest, raw, content_type)
    return Accepted("/v1/audio/speech", request, payload, semantics.check_speech(request))


VALIDATORS: dict[str, Callable[[bytes, str | None], Accepted]] = {
    "/v1/chat/completions": _chat,
    "/v1/fim/completions": _fim,
    "/v1/embeddings": _embeddings,
    "/v1/ocr": _ocr,
    "/v1/moderations": _moderations,
    "/v1/chat/moderations": _chat_moderations,
    "/v1/classifications": _classifications,
    "/v1/chat/classifications": _chat_classifications,
    "/v1/audio/speech": _speech,
}
"""The POST routes whose bodies the contract knows."""


def accept(path: str, raw: bytes, content_type: str | None) -> Accepted:
    """The accepted request, or Mistral's refusal raised as ``MistralError`` (``KeyError``: no such route)."""
    return VALIDATORS[path](raw, content_type)


def _transcription(incoming: Incoming) -> Accepted:
    """One route, the spec's two schemas: ``stream`` (true or false, as a form reads it) picks the model."""
    form = incoming.form
    fields, tokens = (form.fields, form.tokens()) if form is not None else ({}, {})
    streamed = as_bool(fields["stream"][-1]) is True if fields.get("stream") else False
    model = AudioTranscriptionRequestStream if streamed else AudioTranscriptionRequest
    request = parse_form(model, fields, tokens)
    family = semantics.check_transcription(request)
    payload = form.summary() if form is not None else {}
    return Accepted("/v1/audio/transcriptions", request, payload, family)


FORM_VALIDATORS: dict[str, Callable[[Incoming], Accepted]] = {
    "/v1/audio/transcriptions": _transcription,
}
"""The POST routes whose bodies are forms, judged from the form the pipeline read."""


# --- resources: files and batch jobs ------------------------------------------------------------------------

ParamsParser = Callable[[Incoming, Mapping[str, str]], tuple[Any, Any, Any]]


def _gathered(*steps: Callable[[], Any]) -> list[Any]:
    """Run each parse; all their 422 details in one refusal, in order (path, query, body), as FastAPI does."""
    results: list[Any] = []
    details: list[dict[str, Any]] = []
    for step in steps:
        try:
            results.append(step())
        except MistralError as error:
            if error.details is None:
                raise
            details.extend(error.details)
            results.append(None)
    if details:
        raise validation_failed(details)
    return results


def _path(model: type[BaseModel], values: Mapping[str, str]) -> Callable[[], Any]:
    return lambda: parse_params(model, {k: [v] for k, v in values.items()}, "path")


def _query(model: type[BaseModel], incoming: Incoming) -> Callable[[], Any]:
    return lambda: parse_params(model, incoming.query, "query")


def _upload(incoming: Incoming, ids: Mapping[str, str]) -> tuple[Any, Any, Any]:
    form = incoming.form
    fields, tokens = (form.fields, form.tokens()) if form is not None else ({}, {})
    (body,) = _gathered(lambda: parse_form(UploadFileForm, fields, tokens))
    return None, None, body


def _list_files(incoming: Incoming, ids: Mapping[str, str]) -> tuple[Any, Any, Any]:
    (query,) = _gathered(_query(ListFilesQuery, incoming))
    return None, query, None


def _one_file(incoming: Incoming, ids: Mapping[str, str]) -> tuple[Any, Any, Any]:
    (path,) = _gathered(_path(FilePath, ids))
    return path, None, None


def _signed_url(incoming: Incoming, ids: Mapping[str, str]) -> tuple[Any, Any, Any]:
    path, query = _gathered(_path(FilePath, ids), _query(SignedUrlQuery, incoming))
    return path, query, None


def _create_job(incoming: Incoming, ids: Mapping[str, str]) -> tuple[Any, Any, Any]:
    request, _ = parse_request(CreateBatchJobRequest, incoming.raw, incoming.content_type)
    semantics.check_batch_job(request)
    return None, None, request


def _list_jobs(incoming: Incoming, ids: Mapping[str, str]) -> tuple[Any, Any, Any]:
    (query,) = _gathered(_query(ListBatchJobsQuery, incoming))
    return None, query, None


def _one_job(incoming: Incoming, ids: Mapping[str, str]) -> tuple[Any, Any, Any]:
    path, query = _gathered(_path(BatchJobPath, ids), _query(GetBatchJobQuery, incoming))
    return path, query, None


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str
    parse: ParamsParser


def _route(method: str, template: str, parse: ParamsParser) -> Route:
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")
    return Route(method, pattern, f"{method} {template}", parse)


ROUTES: tuple[Route, ...] = (
    _route("POST", "/v1/files", _upload),
    _route("GET", "/v1/files", _list_files),
    _route("GET", "/v1/files/{file_id}", _one_file),
    _route("DELETE", "/v1/files/{file_id}", _one_file),
    _route("GET", "/v1/files/{file_id}/content", _one_file),
    _route("GET", "/v1/files/{file_id}/url", _signed_url),
    _route("POST", "/v1/batch/jobs", _create_job),
    _route("GET", "/v1/batch/jobs", _list_jobs),
    _route("GET", "/v1/batch/jobs/{job_id}", _one_job),
    _route("DELETE", "/v1/batch/jobs/{job_id}", _one_job),
    _route("POST", "/v1/batch/jobs/{job_id}/cancel", _one_job),
)
"""The resource routes the contract knows, by method and path template."""

FORM_PATHS = frozenset({"/v1/files", *FORM_VALIDATORS})
"""Routes whose body is a form: the pipeline reads it as one (file parts to disk), whatever its type."""


def route_of(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        if route.method == method and (match := route.pattern.match(path)):
            return route, match.groupdict()
    return None


def judge(incoming: Incoming, shape: ValidationShape) -> Verdict | None:
    """The verdict on a request, as a value; None for a route the contract has no model of."""
    try:
        if incoming.method == "POST" and incoming.path in FORM_VALIDATORS:
            return FORM_VALIDATORS[incoming.path](incoming)
        if incoming.method == "POST" and incoming.path in VALIDATORS:
            return accept(incoming.path, incoming.raw, incoming.content_type)
        found = route_of(incoming.method, incoming.path)
        if found is None:
            return None
        route, ids = found
        path, query, body = route.parse(incoming, ids)
        return Routed(route.name, path, query, body)
    except MistralError as error:
        return Refused(Rendered.of(error, shape))
