"""Mistral's contract applied to a request, in every mode: a verdict, accepted or refused, as a value.

The schema (Mistral's request models, 422) and the semantic checks (mistral-common and the catalogue, 400)
of ``mistral_wire.contract`` run before any source answers, so a request Mistral would refuse is refused
in replay mode too, when no recording answers it, and never reaches the synthetic generator. A refusal is
kept rendered (status, headers, bytes): verdicts are cached, and a cache must hold no exception object.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from mistral_wire.contract import semantics
from mistral_wire.contract.catalogue import Family
from mistral_wire.contract.errors import MistralError, ValidationShape
from mistral_wire.contract.parsing import parse_request
from mistral_wire.contract.requests import (
    ChatCompletionRequest,
    EmbeddingRequest,
    FIMCompletionRequest,
    OCRRequest,
)
from mistral_wire.contract.responses import CountResponseInputTokensRequest, CreateResponseRequest
from mistral_wire.contract.responses_semantics import check_responses
from mockserver.render import Rendered


@dataclass(frozen=True)
class Accepted:
    """A request Mistral would accept: the contract model, the decoded JSON, and the model family."""

    path: str
    request: BaseModel
    payload: Any
    family: Family


@dataclass(frozen=True)
class Refused:
    """A request Mistral would refuse, with the refusal it would send."""

    refusal: Rendered


Verdict = Accepted | Refused


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


def _responses(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(CreateResponseRequest, raw, content_type)
    return Accepted("/v1/responses", request, payload, check_responses(request))


def _input_tokens(raw: bytes, content_type: str | None) -> Accepted:
    request, payload = parse_request(CountResponseInputTokensRequest, raw, content_type)
    return Accepted("/v1/responses/input_tokens", request, payload, check_responses(request))


VALIDATORS: dict[str, Callable[[bytes, str | None], Accepted]] = {
    "/v1/chat/completions": _chat,
    "/v1/fim/completions": _fim,
    "/v1/embeddings": _embeddings,
    "/v1/ocr": _ocr,
    "/v1/responses": _responses,
    "/v1/responses/input_tokens": _input_tokens,
}
"""The POST routes whose bodies the contract knows."""

MODELS: dict[str, type[BaseModel]] = {
    "/v1/chat/completions": ChatCompletionRequest,
    "/v1/fim/completions": FIMCompletionRequest,
    "/v1/embeddings": EmbeddingRequest,
    "/v1/ocr": OCRRequest,
    "/v1/responses": CreateResponseRequest,
    "/v1/responses/input_tokens": CountResponseInputTokensRequest,
}
"""The request model of each route in ``VALIDATORS`` (the drift check holds them against Mistral's SDK)."""


def accept(path: str, raw: bytes, content_type: str | None) -> Accepted:
    """The accepted request, or Mistral's refusal raised as ``MistralError`` (``KeyError``: no such route)."""
    return VALIDATORS[path](raw, content_type)


def judge(path: str, raw: bytes, content_type: str | None, shape: ValidationShape) -> Verdict | None:
    """The verdict on a request body, as a value; None for a route the contract has no model of."""
    if path not in VALIDATORS:
        return None
    try:
        return accept(path, raw, content_type)
    except MistralError as error:
        return Refused(Rendered.of(error, shape))
