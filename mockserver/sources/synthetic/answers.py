"""What each POST endpoint answers to a request the contract accepted. No I/O here.

Each function computes the whole synthetic answer, so the source only decides how and when to send it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mistral_wire.contract.requests import (
    ChatCompletionRequest,
    EmbeddingRequest,
    FIMCompletionRequest,
    OCRRequest,
)
from mistral_wire.contract.responses import CountResponseInputTokensRequest, CreateResponseRequest
from mockserver.sources.synthetic import chat as chat_synth
from mockserver.sources.synthetic import embeddings as embeddings_synth
from mockserver.sources.synthetic import fim as fim_synth
from mockserver.sources.synthetic import ocr as ocr_synth
from mockserver.sources.synthetic import responses as responses_synth
from mockserver.sources.synthetic import seeds
from mockserver.validation import Accepted


@dataclass(frozen=True)
class Outcome:
    """A computed answer. ``answer`` (chat, FIM) and ``reply`` (Responses) are rendered at send time, when
    ``created`` is known."""

    answer: chat_synth.Answer | None = None
    body: dict[str, Any] | None = None
    stream: bool = False
    cost: int = 0
    reply: responses_synth.Reply | None = None

    def json(self, created: int) -> dict[str, Any]:
        if self.reply is not None:
            return responses_synth.render(self.reply, created)
        if self.answer is not None:
            return chat_synth.render(self.answer, created)
        assert self.body is not None
        return self.body


def chat(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, ChatCompletionRequest)
    answer = chat_synth.answer(request, accepted.family, accepted.payload)
    return Outcome(answer=answer, stream=request.stream, cost=answer.usage["total_tokens"])


def fim(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, FIMCompletionRequest)
    answer = fim_synth.answer(request, accepted.family, accepted.payload)
    return Outcome(answer=answer, stream=request.stream, cost=answer.usage["total_tokens"])


def embeddings(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, EmbeddingRequest)
    body = embeddings_synth.answer(request, accepted.family, accepted.payload)
    return Outcome(body=body, cost=body["usage"]["total_tokens"])


def ocr(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, OCRRequest)
    # The invented document depends on the document only, so options like ``pages`` select from one document.
    seed = seeds.request_seed("ocr", accepted.payload.get("document"))
    body = ocr_synth.answer(request, request.model or "mistral-ocr-latest", seed)
    return Outcome(body=body, cost=body["usage_info"]["pages_processed"])


def responses(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, CreateResponseRequest)
    reply = responses_synth.reply(request, accepted.family, accepted.payload)
    return Outcome(reply=reply, stream=request.stream, cost=reply.usage["total_tokens"])


def input_tokens(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, CountResponseInputTokensRequest)
    # Counting is free: no tokens are generated.
    return Outcome(body=responses_synth.input_tokens(request, accepted.family))


POST_ROUTES: dict[str, Callable[[Accepted], Outcome]] = {
    "/v1/chat/completions": chat,
    "/v1/fim/completions": fim,
    "/v1/embeddings": embeddings,
    "/v1/ocr": ocr,
    "/v1/responses": responses,
    "/v1/responses/input_tokens": input_tokens,
}
