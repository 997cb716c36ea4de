"""The models the mock knows, and what each may be used for.

One table of model families. Every id of a family (its name and each alias) is its own entry in
``GET /v1/models``, as on the live API, and every endpoint checks its ``model`` against this table, so the
catalogue and what the endpoints accept never disagree.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Kind = Literal["chat", "embedding", "ocr", "moderation", "transcription", "speech"]
Tokenizer = Literal["tekken", "spm-v1", "spm-v3"]

CAPABILITY_KEYS = (
    "completion_chat",
    "function_calling",
    "reasoning",
    "completion_fim",
    "fine_tuning",
    "vision",
    "ocr",
    "classification",
    "moderation",
    "audio",
    "audio_transcription",
    "audio_transcription_realtime",
    "audio_speech",
    "unified_resources",
)

CHAT = frozenset({"completion_chat", "function_calling"})


@dataclass(frozen=True)
class Family:
    name: str
    aliases: tuple[str, ...]
    kind: Kind
    description: str
    context: int
    temperature: float | None
    capabilities: frozenset[str] = frozenset()
    deprecation: str | None = None
    replacement: str | None = None
    tokenizer: Tokenizer = "tekken"
    # Embedding models: the default width, and the widest ``output_dimension`` (None: not settable).
    dimensions: int = 0
    max_dimensions: int | None = None
    # Older magistral models still honour ``prompt_mode: "reasoning"``; current ones refuse it.
    prompt_mode: bool = False
    # Whether a user turn may directly follow a tool result. Refused with code 3230 on most models
    # (zed#37021 up to 2026-04, datapizza-ai#98); accepted by mistral-small-latest in 2026-08 recordings.
    user_after_tool: bool = False

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def deprecated_now(self, now: datetime | None = None) -> bool:
        if not self.deprecation:
            return False
        return datetime.fromisoformat(self.deprecation) <= (now or datetime.now(UTC))


def _chat(*extra: str) -> frozenset[str]:
    return CHAT | frozenset(extra)


FAMILIES: tuple[Family, ...] = (
    Family("mistral-large-2512", ("mistral-large-latest",), "chat",
           "Flagship multimodal model for complex reasoning and agentic work.", 262144, 0.3,
           _chat("fine_tuning", "vision")),
    Family("mistral-large-4", (), "chat",
           "Large model with optional reasoning, selected with reasoning_effort.", 262144, 0.3,
           _chat("reasoning", "vision")),
    Family("mistral-large-2411", (), "chat", "Large model of November 2024.", 131072, 0.7,
           _chat("fine_tuning")),
    Family("pixtral-large-2411", ("pixtral-large-latest", "mistral-large-pixtral-2411"), "chat",
           "Large vision model of November 2024.", 131072, 0.7, _chat("vision")),
    Family("mistral-medium-2508", ("mistral-medium-latest", "mistral-medium"), "chat",
           "Frontier-class multimodal model, August 2025 release.", 131072, 0.3,
           _chat("fine_tuning", "vision")),
    Family("mistral-medium-3-5", (), "chat",
           "Medium model with optional reasoning, selected with reasoning_effort.", 131072, 0.3,
           _chat("reasoning", "vision")),
    Family("mistral-medium-2505", (), "chat", "Frontier-class multimodal model, May 2025 release.", 131072, 0.3,
           _chat("fine_tuning", "vision")),
    Family("mistral-small-2603", ("mistral-small-latest",), "chat",
           "Small multimodal model with optional reasoning.", 131072, 0.3,
           _chat("reasoning", "fine_tuning", "vision"), user_after_tool=True),
    Family("mistral-small-2506", (), "chat", "Small multimodal model, June 2025 release.", 131072, 0.3,
           _chat("vision")),
    # "mistral-small" was still answered in 2025-04, as a model without vision (ruby_llm recordings).
    Family("mistral-small-2501", ("mistral-small",), "chat", "Small model, January 2025 release.", 32768, 0.3,
           _chat("fine_tuning"), deprecation="2026-01-31T12:00:00Z", replacement="mistral-small-latest"),
    Family("magistral-medium-2509", ("magistral-medium-latest",), "chat",
           "Reasoning model, medium size.", 131072, 0.7, _chat("reasoning", "fine_tuning", "vision")),
    Family("magistral-small-2509", ("magistral-small-latest",), "chat",
           "Reasoning model, small size.", 131072, 0.7, _chat("reasoning", "fine_tuning", "vision")),
    Family("magistral-medium-2507", (), "chat", "Reasoning model, medium size, July 2025.", 40960, 0.7,
           _chat("reasoning"), prompt_mode=True),
    Family("ministral-14b-2512", ("ministral-14b-latest",), "chat", "Edge model, 14B.", 262144, 0.3,
           _chat("fine_tuning", "vision")),
    Family("ministral-8b-2512", ("ministral-8b-latest",), "chat", "Edge model, 8B.", 262144, 0.3,
           _chat("fine_tuning", "vision")),
    Family("ministral-3b-2512", ("ministral-3b-latest",), "chat", "Edge model, 3B.", 131072, 0.3,
           _chat("fine_tuning", "vision")),
    Family("ministral-8b-2410", (), "chat", "Edge model, 8B, October 2024.", 131072, 0.3,
           _chat("fine_tuning"), deprecation="2026-01-31T12:00:00Z", replacement="ministral-8b-latest"),
    Family("ministral-3b-2410", (), "chat", "Edge model, 3B, October 2024.", 131072, 0.3,
           _chat("fine_tuning"), deprecation="2026-01-31T12:00:00Z", replacement="ministral-3b-latest"),
    Family("codestral-2508", ("codestral-latest",), "chat",
           "Code model for fill-in-the-middle and code generation.", 256000, 0.3, _chat("completion_fim")),
    Family("codestral-2501", ("codestral-2412", "codestral-2411-rc5"), "chat", "Code model, January 2025.",
           256000, 0.3, _chat("completion_fim", "fine_tuning"), deprecation="2026-01-31T12:00:00Z",
           replacement="codestral-latest"),
    Family("devstral-2512", ("devstral-latest", "devstral-medium-latest", "mistral-vibe-cli-latest"), "chat",
           "Agentic coding model.", 262144, 0.2, _chat()),
    Family("labs-devstral-small-2512", ("devstral-small-latest",), "chat", "Agentic coding model, small.",
           262144, 0.2, _chat("vision")),
    Family("devstral-medium-2507", (), "chat", "Agentic coding model, July 2025.", 131072, 0.0, _chat()),
    Family("devstral-small-2507", (), "chat", "Agentic coding model, small, July 2025.", 131072, 0.0, _chat()),
    Family("open-mistral-nemo", ("open-mistral-nemo-2407", "mistral-tiny-2407", "mistral-tiny-latest"), "chat",
           "Open 12B model built with NVIDIA.", 131072, 0.3, _chat("fine_tuning")),
    Family("open-mistral-7b", ("mistral-tiny", "mistral-tiny-2312"), "chat", "The first open Mistral model.",
           32768, 0.7, _chat("fine_tuning"), deprecation="2026-01-31T12:00:00Z", tokenizer="spm-v1"),
    Family("pixtral-12b-2409", ("pixtral-12b", "pixtral-12b-latest"), "chat", "Open 12B vision model.",
           131072, 0.3, _chat("fine_tuning", "vision"), deprecation="2026-01-31T12:00:00Z",
           replacement="ministral-14b-latest"),
    Family("voxtral-small-2507", ("voxtral-small-latest",), "chat", "Audio-understanding chat model.",
           32768, 0.2, _chat("audio")),
    # Transcribes too: voxtral-mini-latest answered /v1/audio/transcriptions live (ruby_llm, 2026-08).
    Family("voxtral-mini-2507", ("voxtral-mini-latest",), "chat", "Audio-understanding chat model, mini.",
           32768, 0.2, frozenset({"completion_chat", "audio", "audio_transcription"})),
    # Listed in the 2025-12 models list (there with voxtral-mini-latest and -2507 as aliases, which the chat
    # family above keeps: an id belongs to one family here).
    Family("voxtral-mini-transcribe-2507", (), "transcription", "A mini transcription model released in July 2025.",
           16384, 0.0, frozenset({"completion_chat", "audio_transcription"})),
    # The speech model of ruby_llm's live /v1/audio/speech request (2026-08); no dated name is recorded.
    Family("voxtral-mini-tts-latest", (), "speech", "Text to speech.", 8192, None,
           frozenset({"audio_speech"})),
    Family("labs-mistral-small-creative", (), "chat", "Small model tuned for creative writing.", 32768, 0.3,
           _chat("fine_tuning")),
    Family("mistral-embed-2312", ("mistral-embed",), "embedding", "Text embeddings, 1024 dimensions.",
           8192, None, tokenizer="spm-v1", dimensions=1024),
    Family("codestral-embed", ("codestral-embed-2505",), "embedding",
           "Code embeddings, 1536 dimensions by default, up to 3072.", 8192, None, dimensions=1536,
           max_dimensions=3072),
    Family("mistral-moderation-2411", ("mistral-moderation-latest",), "moderation", "Content moderation.",
           8192, None, frozenset({"classification", "moderation"})),
    # mistralai 3.7.0's ModerationLLMV2Config defaults to it; -latest still named 2411 in the last recorded
    # models list (2025-12), so it keeps that alias.
    Family("mistral-moderation-2603", (), "moderation", "Content moderation, eleven categories.",
           8192, None, frozenset({"classification", "moderation"})),
    Family("mistral-ocr-2512", ("mistral-ocr-latest",), "ocr", "Document understanding and OCR.", 16384, 0.0,
           frozenset({"function_calling", "vision", "ocr"})),
    Family("mistral-ocr-2505", (), "ocr", "Document OCR, May 2025.", 16384, 0.0,
           frozenset({"function_calling", "vision", "ocr"})),
    Family("mistral-ocr-2503", (), "ocr", "Document OCR, March 2025.", 16384, 0.0,
           frozenset({"function_calling", "vision", "ocr"}), deprecation="2026-03-31T12:00:00Z",
           replacement="mistral-ocr-latest"),
)  # fmt: skip

_BY_ID: dict[str, Family] = {model_id: family for family in FAMILIES for model_id in family.ids}


def lookup(model_id: str) -> Family | None:
    """The family a model id (name or alias) belongs to, or None when Mistral would not know it."""
    return _BY_ID.get(model_id)


def all_ids() -> list[str]:
    return list(_BY_ID)


@dataclass(frozen=True)
class Card:
    """One entry of ``GET /v1/models``."""

    id: str
    family: Family = field(repr=False)

    def render(self, created: int) -> dict[str, Any]:
        family = self.family
        return {
            "id": self.id,
            "object": "model",
            "created": created,
            "owned_by": "mistralai",
            "capabilities": {key: key in family.capabilities for key in CAPABILITY_KEYS},
            "name": family.name,
            "description": family.description,
            "max_context_length": family.context,
            "aliases": [other for other in family.ids if other != self.id],
            "deprecation": family.deprecation,
            "deprecation_replacement_model": family.replacement,
            "default_model_temperature": family.temperature,
            "type": "base",
        }


def cards() -> list[Card]:
    return [Card(model_id, family) for model_id, family in _BY_ID.items()]
