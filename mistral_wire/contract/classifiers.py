"""Mistral's moderation and classification endpoints: their requests, and each moderation model's categories.

``/v1/moderations`` and ``/v1/classifications`` take text (``input``: a string or a list), the chat variants
take conversations (``/v1/chat/moderations``: a list of messages, or a list of them; the last turn is the
one judged, the earlier ones its context), ``/v1/chat/classifications`` one ``{"messages": [...]}`` or a
list of them. A moderation result maps each of the model's categories to a score and a verdict.
"""

from typing import Any, Final

from mistral_wire.contract.base import Closed
from mistral_wire.contract.messages import Message

MODERATION_V1: Final = (
    "sexual",
    "hate_and_discrimination",
    "violence_and_threats",
    "dangerous_and_criminal_content",
    "selfharm",
    "health",
    "financial",
    "law",
    "pii",
)
"""mistral-moderation-2411's nine categories (the spec's response example; the SDK's V1 thresholds)."""

MODERATION_V2: Final = (
    "sexual",
    "hate_and_discrimination",
    "violence_and_threats",
    "dangerous",
    "criminal",
    "selfharm",
    "health",
    "financial",
    "law",
    "pii",
    "jailbreaking",
)
"""mistral-moderation-2603's eleven categories, as mistralai 3.7.0's ModerationLLMV2CategoryThresholds names
them (the model the SDK's ModerationLLMV2Config defaults to). No recorded answer shows them yet."""

CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "mistral-moderation-2411": MODERATION_V1,
    "mistral-moderation-2603": MODERATION_V2,
}
"""Each moderation model family's categories, in the order its answers list them."""

THRESHOLD: Final = 0.5
"""A category is true at or above this score. Assumption: Mistral publishes no threshold for the API's
booleans (its guardrail configs take per-category thresholds, defaulting to none)."""


class ClassificationRequest(Closed):
    model: str
    metadata: dict[str, Any] | None = None
    input: str | list[str]


class ChatModerationRequest(Closed):
    input: list[Message] | list[list[Message]]
    model: str


class InstructRequest(Closed):
    messages: list[Message]


class ChatClassificationRequest(Closed):
    model: str
    input: InstructRequest | list[InstructRequest]
