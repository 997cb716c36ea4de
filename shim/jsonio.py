"""JSON in and out of the shim: orjson on the hot path, the standard library where orjson says no.

Every request is parsed and written twice (the client's body and Mistral's answer), every stream event
once each way, and every request logs a JSON line; with the standard library that was a tenth of the
shim's CPU per answer (bench/README.md, "Shim"). orjson does the same work several times faster and
writes the same compact UTF-8 with keys in insertion order.

Where orjson refuses what the standard library takes (the non-standard ``NaN``/``Infinity`` in a body,
nesting beyond 1,024 levels, an integer beyond 64 bits to write), the standard library gets the last word,
so what the shim accepts does not depend on which parser ran; the fallback costs time only on such inputs.
(Writing, orjson turns a NaN into ``null`` where the standard library would write invalid JSON.)
"""

import json
from typing import Any

import orjson

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

DecodeError = ValueError
"""What ``loads`` raises for a body that is not JSON (``json.JSONDecodeError`` is a ValueError)."""


def loads(data: bytes | bytearray | str) -> Any:
    """Parse JSON; raises ``ValueError`` (or ``RecursionError`` for absurd nesting) when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # the standard library's verdict, and its error message


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, keys in insertion order, as Mistral and OpenAI write it."""
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits, or a type orjson does not know
        return _ENCODER.encode(value).encode()
