"""A multipart form's text fields as the JSON body a translation table reads.

The openai SDKs send a form's nested and repeated fields with brackets: ``expires_after[anchor]``,
``timestamp_granularities[]`` (repeated), ``chunking_strategy[type]``. Folded here they are the request
body OpenAI's schema describes (``{"expires_after": {"anchor": ...}}``, a list), so a form goes through the
same rows and the same interpreter (``table.apply``) as a JSON body. Every value of a form is text: a row
that wants a number, a boolean or an array gets one, parsed as OpenAI's server parses it, or OpenAI's 400
``invalid_type`` when the text is not one.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from shim.translate.problem import OpenAIError
from shim.translate.table import Kind, Table

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def fold(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``[("a[b]", "1"), ("c[]", "x"), ("c[]", "y"), ("d", "z")]`` → ``{"a": {"b": "1"}, "c": ["x", "y"],
    "d": "z"}``. A key repeated without brackets becomes a list too (curl users write ``-F c=x -F c=y``);
    a key sent once without brackets stays one value, which ``coerce`` makes a list where a list is wanted.
    """
    body: dict[str, Any] = {}
    for key, value in pairs:
        name, bracket, inner = key.partition("[")
        if bracket and inner.endswith("]"):
            inner = inner[:-1]
            if inner == "":
                current = body.get(name)
                body[name] = [*current, value] if isinstance(current, list) else [value]
            else:
                nested = body.get(name)
                if not isinstance(nested, dict):
                    nested = body[name] = {}
                nested[inner] = value
            continue
        if key in body:
            current = body[key]
            body[key] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            body[key] = value
    return body


def _invalid(name: str, expected: str, value: str) -> OpenAIError:
    return OpenAIError(
        400,
        f"Invalid value for '{name}': expected {expected}, but got {value!r} instead.",
        param=name,
        code="invalid_type",
    )


def _parse(name: str, value: str, kinds: tuple[Kind, ...]) -> Any:
    if "string" in kinds:
        return value
    text = value.strip()
    if "boolean" in kinds:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise _invalid(name, "a boolean", value)
    if "integer" in kinds and "number" not in kinds:
        try:
            return int(text)
        except ValueError:
            raise _invalid(name, "an integer", value) from None
    if "number" in kinds:
        try:
            number = float(text)
        except ValueError:
            raise _invalid(name, "a number", value) from None
        return int(number) if number.is_integer() and "." not in text else number
    return value


def coerce(table: Table, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` (folded from a form) with each field's text read as its row's type: ``"0.2"`` a number,
    ``"true"`` a boolean, one text where an array is wanted a list of one. Unknown fields stay text."""
    out: dict[str, Any] = {}
    for name, value in body.items():
        row = table.fields.get(name)
        if row is None:
            out[name] = value
        elif isinstance(value, str) and "array" in row.kinds and "string" not in row.kinds:
            out[name] = [value]
        elif isinstance(value, str):
            out[name] = _parse(name, value, row.kinds)
        else:
            out[name] = value
    return out
