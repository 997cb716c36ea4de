"""JSON in and out of both servers: one codec, two ways of writing.

``dumps``/``loads`` are the fast path (orjson), for the shim, which parses and writes every body and event
it relays. ``compact`` writes what Mistral's own server writes (Python's ``json`` with compact separators
and raw UTF-8), byte for byte: the mock's answers and refusals, recorded bodies and SSE events must equal
the live API's bytes, and orjson formats small floats differently (``0.000046`` and ``1e-7`` where Python
writes ``4.6e-05`` and ``1e-07``). ``canonical`` (sorted keys) is for hashing a request.

Every request is parsed and written twice (the client's body and Mistral's answer), every stream event
once each way, and every request logs a JSON line; with the standard library that was a tenth of the
shim's CPU per answer (bench/README.md, "Shim"). orjson does the same work several times faster and
writes the same compact UTF-8 with keys in insertion order.

Where orjson refuses what the standard library takes (the non-standard ``NaN``/``Infinity`` in a body,
nesting beyond 1,024 levels, an integer beyond 64 bits to write), the standard library gets the last word,
so what the shim accepts does not depend on which parser ran; the fallback costs time only on such inputs.
(Writing, orjson turns a NaN into ``null`` where the standard library would write invalid JSON.)

Two things only the standard library lets through are handled here, so no caller meets them as a crash:
nesting too deep for its recursive parser (``TooDeep``, a ``ValueError``), and a string holding an unpaired
UTF-16 surrogate (``"\\ud800"``), which is valid JSON syntax but not Unicode. ``loads_strict`` refuses the
latter (a client's body); ``dumps`` writes it back as the same ``\\u`` escape (an upstream's answer).
"""

import json
from typing import Any

import orjson

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ASCII_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))

DecodeError = ValueError
"""What ``loads`` raises for a body that is not JSON (``json.JSONDecodeError`` is a ValueError)."""


class TooDeep(ValueError):
    """JSON nested deeper than the parser can follow."""


class NotUnicode(ValueError):
    """JSON whose strings are not valid Unicode (an unpaired surrogate)."""


def _stdlib_loads(data: bytes | bytearray | str) -> Any:
    try:
        return json.loads(data)  # the standard library's verdict, and its error message
    except RecursionError:
        raise TooDeep("the JSON is nested too deeply to parse") from None


def loads(data: bytes | bytearray | str) -> Any:
    """Parse JSON; raises ``ValueError`` (``TooDeep`` for absurd nesting) when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return _stdlib_loads(data)


def loads_strict(data: bytes | bytearray | str) -> Any:
    """``loads``, also refusing (``NotUnicode``) a string with an unpaired surrogate, as escape or bytes.

    orjson refuses those itself, so the check runs only on the rare bodies the standard library parsed.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        value = _stdlib_loads(data)
    bad = _first_lone_surrogate(value)
    if bad is not None:
        raise NotUnicode(
            f"a string holds the unpaired UTF-16 surrogate \\u{ord(bad):04x}, which is no Unicode character"
        )
    return value


def _first_lone_surrogate(value: Any) -> str | None:
    """The first surrogate code point in any string (or key) of ``value``, walked without recursion."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if not node.isascii():
                try:
                    node.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return node[exc.start]
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def compact(value: Any) -> str:
    """Mistral's compact JSON as text: no spaces, raw UTF-8, keys in insertion order."""
    return _ENCODER.encode(value)


def compact_bytes(value: Any) -> bytes:
    """``compact`` as bytes. A string with a lone surrogate (which JSON's ``\\ud800`` escape can smuggle
    in, and an error message may echo back) has no UTF-8 form: such a value is written with ASCII escapes
    instead, still valid JSON."""
    text = _ENCODER.encode(value)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return _ASCII_ENCODER.encode(value).encode()


def canonical(value: Any) -> bytes:
    """Sorted keys, compact, UTF-8 (lone surrogates passed through): the same bytes for the same JSON
    whatever its key order or spacing, for hashing a request into a seed or a recording key."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, keys in insertion order, as Mistral and OpenAI write it."""
    try:
        return orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits, a type orjson does not know, deep nesting, a surrogate
        try:
            return _ENCODER.encode(value).encode()
        except UnicodeEncodeError:  # an unpaired surrogate: written as the \u escape it arrived as
            return _ASCII_ENCODER.encode(value).encode()
        except RecursionError:
            raise TooDeep("the JSON is nested too deeply to write") from None
