"""Faults a test asks for with the ``x-mock-fault`` header, e.g. ``status=429;retry_after=2``.

Settings are ``;``-separated ``key=value`` pairs. A header the mock cannot read is refused with a 400 that
names the problem, rather than silently ignored, so a typo in a test never passes unnoticed.

``shape=gateway`` (with ``status=429``) answers the gateway's ``{"message":"Requests rate limit exceeded"}``
instead of the application's ``rate_limited`` envelope; ``shape=app`` asks for the envelope explicitly.
"""

from dataclasses import dataclass
from typing import get_args

from mistral_wire.contract.errors import MistralError, RateLimitShape, invalid_request

HEADER = "x-mock-fault"

_INTEGER_KEYS = ("status", "retry_after", "latency_ms", "ttft_ms", "chunk_ms", "disconnect_after")
_SHAPES = get_args(RateLimitShape)
_KEYS = (*_INTEGER_KEYS, "shape")


@dataclass(frozen=True)
class Fault:
    status: int | None = None
    retry_after: int | None = None
    latency_ms: int | None = None
    ttft_ms: int | None = None
    chunk_ms: int | None = None
    disconnect_after: int | None = None
    shape: RateLimitShape | None = None


NONE = Fault()


def parse(header: str | None) -> Fault:
    """The fault a header asks for; ``NONE`` without the header."""
    if not header:
        return NONE
    values: dict[str, int | str] = {}
    for item in header.split(";"):
        item = item.strip()
        if not item:
            continue
        key, sep, raw = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in _KEYS:
            raise _bad(f"unknown setting {item!r}; known: {', '.join(_KEYS)}")
        if key == "shape":
            shape = raw.strip().lower()
            if shape not in _SHAPES:
                raise _bad(f"shape must be one of {', '.join(_SHAPES)}, got {raw.strip()!r}")
            values[key] = shape
            continue
        try:
            value = int(raw.strip())
        except ValueError:
            raise _bad(f"{key} must be an integer, got {raw.strip()!r}") from None
        if value < 0:
            raise _bad(f"{key} must not be negative")
        values[key] = value
    status = values.get("status")
    if status is not None and not 400 <= int(status) <= 599:
        raise _bad("status must be between 400 and 599")
    if "shape" in values and status != 429:
        raise _bad("shape applies to status=429 only")
    return Fault(**values)  # type: ignore[arg-type]


def _bad(reason: str) -> MistralError:
    return invalid_request(f"Invalid {HEADER} header: {reason}")
