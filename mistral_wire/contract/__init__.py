"""What Mistral accepts, in one place.

The mock validates every request with these models, and the shim asks the same models which fields Mistral
knows. There is deliberately no second list anywhere else.
"""

from mistral_wire.contract.errors import MistralError
from mistral_wire.contract.requests import (
    ChatCompletionRequest,
    EmbeddingRequest,
    FIMCompletionRequest,
    OCRRequest,
)

__all__ = [
    "ChatCompletionRequest",
    "EmbeddingRequest",
    "FIMCompletionRequest",
    "MistralError",
    "OCRRequest",
]
