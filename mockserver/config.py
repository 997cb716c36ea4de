"""The mock's settings: one frozen object built from flags and environment."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mistral_wire.contract.errors import RateLimitShape, ValidationShape

Mode = Literal["synthetic", "record", "replay", "auto"]


@dataclass(frozen=True)
class MockConfig:
    host: str = "127.0.0.1"
    port: int = 8081
    mode: Mode = "synthetic"
    # Accepted bearer keys; empty means any non-empty key is accepted, as a stand-in for the real API.
    api_keys: frozenset[str] = field(default_factory=frozenset)
    # OCR data URIs are large, hence a generous default.
    max_body_mb: float = 50.0
    latency_ms: int = 0
    chunk_ms: int = 0
    rpm: int | None = None
    tpm: int | None = None
    # The body of the 429s ``--rpm``/``--tpm`` answer: Mistral's envelope, or the gateway's {"message": ...}.
    rate_limit_shape: RateLimitShape = "app"
    # The live API's random ``p`` field on stream chunks.
    padding: bool = False
    validation_shape: ValidationShape = "envelope"
    # Record, replay and auto modes.
    upstream: str = "https://api.mistral.ai"
    # The key used upstream when recording; None means the client's own bearer is forwarded.
    upstream_key: str | None = None
    recordings: Path | None = None
    # Replay speed: 1 = as recorded, 2 = twice as fast, 0 = no waiting.
    speed: float = 1.0
    on_miss: Literal["error", "synthetic"] = "error"
    ignore_fields: tuple[str, ...] = ()

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)
