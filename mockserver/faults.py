"""Faults a test asks for with the ``x-mock-fault`` header, e.g. ``status=429;retry_after=2``.

Settings are ``;``-separated ``key=value`` pairs. A header the mock cannot read is refused with a 400 that
names the problem, rather than silently ignored, so a typo in a test never passes unnoticed.

``shape=gateway`` (with ``status=429``) answers the gateway's ``{"message":"Requests rate limit exceeded"}``
instead of the application's ``rate_limited`` envelope; ``shape=app`` asks for the envelope explicitly.

``batch=failed`` or ``batch=timeout`` on the request that creates a batch job makes that job end FAILED or
TIMEOUT_EXCEEDED (the endings a real job reaches only on a real failure or after hours).
"""

from dataclasses import dataclass
from typing import TypeGuard, get_args

from mistral_wire.contract.errors import MistralError, RateLimitShape, invalid_request

HEADER = "x-mock-fault"

_INTEGER_KEYS = ("status", "retry_after", "latency_ms", "ttft_ms", "chunk_ms", "disconnect_after")
_SHAPES = get_args(RateLimitShape)
_BATCH_ENDINGS = ("failed", "timeout")
_KEYS = (*_INTEGER_KEYS, "shape", "batch")


@dataclass(frozen=True)
class Fault:
    status: int | None = None
    retry_after: int | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    chunk_ms: int | None = None
    disconnect_after: int | None = None
    shape: RateLimitShape | None = None
    # How a batch job created with this fault ends: "failed" or "timeout".
    batch: str | None = None


NONE = Fault()


def parse(header: str | None) -> Fault:
    """The fault a header asks for; ``NONE`` without the header."""
    if not header:
        return NONE
    numbers: dict[str, int] = {}
    shape: RateLimitShape | None = None
    batch: str | None = None
    for item in header.split(";"):
        item = item.strip()
        if not item:
            continue
        key, sep, raw = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in _KEYS:
            raise _bad(f"unknown setting {item!r}; known: {', '.join(_KEYS)}")
        if key == "shape":
            named = raw.strip().lower()
            if not _is_shape(named):
                raise _bad(f"shape must be one of {', '.join(_SHAPES)}, got {raw.strip()!r}")
            shape = named
            continue
        if key == "batch":
            batch = raw.strip().lower()
            if batch not in _BATCH_ENDINGS:
                raise _bad(f"batch must be one of {', '.join(_BATCH_ENDINGS)}, got {raw.strip()!r}")
            continue
        try:
            value = int(raw.strip())
        except ValueError:
            raise _bad(f"{key} must be an integer, got {raw.strip()!r}") from None
        if value < 0:
            raise _bad(f"{key} must not be negative")
        numbers[key] = value
    status = numbers.get("status")
    if status is not None and not 400 <= status <= 599:
        raise _bad("status must be between 400 and 599")
    if shape is not None and status != 429:
        raise _bad("shape applies to status=429 only")
    return Fault(
        status=status,
        retry_after=numbers.get("retry_after"),
        latency_ms=numbers.get("latency_ms"),
        ttft_ms=numbers.get("ttft_ms"),
        chunk_ms=numbers.get("chunk_ms"),
        disconnect_after=numbers.get("disconnect_after"),
        shape=shape,
        batch=batch,
    )


def _is_shape(value: str) -> TypeGuard[RateLimitShape]:
    """Whether ``value`` is a rate-limit shape; as a TypeGuard, so that the Literal type follows it."""
    return value in _SHAPES


def _bad(reason: str) -> MistralError:
    return invalid_request(f"Invalid {HEADER} header: {reason}")
