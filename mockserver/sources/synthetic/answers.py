"""What each POST endpoint answers to a request the contract accepted. No I/O here.

Each function computes the whole synthetic answer, so the source only decides how and when to send it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mistral_wire.contract.classifiers import (
    ChatClassificationRequest,
    ChatModerationRequest,
    ClassificationRequest,
)
from mistral_wire.contract.requests import (
    ChatCompletionRequest,
    EmbeddingRequest,
    FIMCompletionRequest,
    OCRRequest,
)
from mockserver.sources.synthetic import chat as chat_synth
from mockserver.sources.synthetic import embeddings as embeddings_synth
from mockserver.sources.synthetic import fim as fim_synth
from mockserver.sources.synthetic import moderation as moderation_synth
from mockserver.sources.synthetic import ocr as ocr_synth
from mockserver.sources.synthetic import seeds
from mockserver.validation import Accepted


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


def _texts(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _conversations(value: list[Any]) -> list[list[Any]]:
    """A chat moderation's input: one conversation, or a list of them."""
    return [list(c) for c in value] if value and isinstance(value[0], list) else [list(value)]


def moderations(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, ClassificationRequest)
    texts = _texts(request.input)
    body = moderation_synth.moderation(request.model, accepted.family, texts, texts)
    return Outcome(body=body, cost=body["usage"]["total_tokens"])


def chat_moderations(accepted: Accepted) -> Outcome:
    """Each conversation's last turn is judged, in the context of the others (all of them are billed)."""
    request = accepted.request
    assert isinstance(request, ChatModerationRequest)
    conversations = _conversations(request.input)
    judged = [moderation_synth.message_text(c[-1]) if c else "" for c in conversations]
    counted = [moderation_synth.message_text(m) for c in conversations for m in c]
    body = moderation_synth.moderation(request.model, accepted.family, judged, counted)
    return Outcome(body=body, cost=body["usage"]["total_tokens"])


def classifications(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, ClassificationRequest)
    body = moderation_synth.classification(request.model, accepted.family, _texts(request.input))
    return Outcome(body=body)


def chat_classifications(accepted: Accepted) -> Outcome:
    request = accepted.request
    assert isinstance(request, ChatClassificationRequest)
    chats = request.input if isinstance(request.input, list) else [request.input]
    judged = [moderation_synth.message_text(c.messages[-1]) if c.messages else "" for c in chats]
    return Outcome(body=moderation_synth.classification(request.model, accepted.family, judged))


POST_ROUTES: dict[str, Callable[[Accepted], Outcome]] = {
    "/v1/chat/completions": chat,
    "/v1/fim/completions": fim,
    "/v1/embeddings": embeddings,
    "/v1/ocr": ocr,
    "/v1/moderations": moderations,
    "/v1/chat/moderations": chat_moderations,
    "/v1/classifications": classifications,
    "/v1/chat/classifications": chat_classifications,
}
