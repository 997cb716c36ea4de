"""What each POST endpoint answers, from request bytes to an answer or a refusal. No I/O here.

Each function validates with the contract (schema, then Mistral's semantic checks) and computes the whole
synthetic answer, so the app only decides how and when to send it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mistral_wire.contract import semantics
from mistral_wire.contract.parsing import parse_request
from mistral_wire.contract.requests import (
    ChatCompletionRequest,
    EmbeddingRequest,
    FIMCompletionRequest,
    OCRRequest,
)
from mockserver.synthetic import chat as chat_synth
from mockserver.synthetic import embeddings as embeddings_synth
from mockserver.synthetic import fim as fim_synth
from mockserver.synthetic import ocr as ocr_synth
from mockserver.synthetic import seeds


@dataclass(frozen=True)
class Outcome:
    """A computed answer. ``answer`` (chat, FIM) is rendered at send time, when ``created`` is known."""

    answer: chat_synth.Answer | None = None
    body: dict[str, Any] | None = None
    stream: bool = False
    cost: int = 0

    def json(self, created: int) -> dict[str, Any]:
        if self.answer is not None:
            return chat_synth.render(self.answer, created)
        assert self.body is not None
        return self.body


def chat(raw: bytes, content_type: str | None) -> Outcome:
    request, payload = parse_request(ChatCompletionRequest, raw, content_type)
    family = semantics.check_chat(request)
    answer = chat_synth.answer(request, family, payload)
    return Outcome(answer=answer, stream=request.stream, cost=answer.usage["total_tokens"])


def fim(raw: bytes, content_type: str | None) -> Outcome:
    request, payload = parse_request(FIMCompletionRequest, raw, content_type)
    family = semantics.check_fim(request.model)
    answer = fim_synth.answer(request, family, payload)
    return Outcome(answer=answer, stream=request.stream, cost=answer.usage["total_tokens"])


def embeddings(raw: bytes, content_type: str | None) -> Outcome:
    request, payload = parse_request(EmbeddingRequest, raw, content_type)
    family = semantics.check_embedding_model(request.model)
    body = embeddings_synth.answer(request, family, payload)
    return Outcome(body=body, cost=body["usage"]["total_tokens"])


def ocr(raw: bytes, content_type: str | None) -> Outcome:
    request, payload = parse_request(OCRRequest, raw, content_type)
    semantics.check_ocr(request.model)
    # The invented document depends on the document only, so options like ``pages`` select from one document.
    seed = seeds.request_seed("ocr", payload.get("document"))
    body = ocr_synth.answer(request, request.model or "mistral-ocr-latest", seed)
    return Outcome(body=body, cost=body["usage_info"]["pages_processed"])


POST_ROUTES: dict[str, Callable[[bytes, str | None], Outcome]] = {
    "/v1/chat/completions": chat,
    "/v1/fim/completions": fim,
    "/v1/embeddings": embeddings,
    "/v1/ocr": ocr,
}
