"""Per-request tracing ids in the live API's formats."""

import os
import time


def request_id() -> str:
    """32 hex characters, like Kong's ``request_id``."""
    return os.urandom(16).hex()


def correlation_id() -> str:
    """A UUIDv7, like ``mistral-correlation-id`` (time-ordered, so logs sort by time)."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
