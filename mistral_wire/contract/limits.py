"""Mistral's numeric limits, where both servers need the same figure.

The request models (``requests``) validate with them, the mock's synthetic answers respect them, and the
shim converts OpenAI's values into them (a temperature of 2 is clamped, a batch of embeddings is split).
"""

from typing import Final

TEMPERATURE_MAX: Final = 1.5
"""Mistral's ``temperature`` is 0..1.5 (OpenAI's 0..2)."""

EMBEDDING_BATCH_TOKENS: Final = 16384
"""The most tokens one embeddings request may hold in all: "Too many tokens in batch. Max is 16384 got
17555" (semantic-router#297)."""
