"""Turning request bytes into a validated contract model, or into Mistral's refusal.

Mistral's API is FastAPI: the body is decoded as JSON when the content type is JSON or absent, then
validated by pydantic, and every failure becomes a 422 whose ``loc`` starts with ``"body"``. This module
reproduces those steps, so the mock refuses exactly what the API refuses, with the same details.
"""

import json
import math
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mistral_wire.contract.errors import unparseable_body, validation_failed

Model = TypeVar("Model", bound=BaseModel)

_MISSING = object()
# A ``\uD800``-``\uDFFF`` escape: the only way a JSON text can carry a surrogate. Paired ones are a valid
# character (an emoji); a lone one is not Unicode at all, and nothing downstream can encode it.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _is_json_type(content_type: str | None) -> bool:
    if not content_type:
        return True
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def decode_body(raw: bytes, content_type: str | None) -> Any:
    """The request body as FastAPI hands it to validation: parsed JSON, raw text, or missing."""
    if not raw:
        return _MISSING
    if not _is_json_type(content_type):
        # FastAPI validates the raw bytes, which fails as "not an object": keep that outcome.
        return raw.decode("utf-8", "replace")
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise validation_failed(
            [
                {
                    "type": "json_invalid",
                    "loc": ["body", exc.pos],
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ]
        ) from None
    except (UnicodeDecodeError, RecursionError, ValueError):
        raise unparseable_body() from None
    if _SURROGATE_ESCAPE.search(raw) and not _encodable(payload):
        raise unparseable_body()
    return payload


def _encodable(payload: Any) -> bool:
    """Whether every string in the payload has a UTF-8 form (no lone surrogate)."""
    try:
        json.dumps(payload, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


_NON_FINITE = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


def _json_safe(value: Any) -> Any:
    """A value echoed in an error, as strict JSON: ``1e999`` parsed as infinity comes back as a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return _NON_FINITE[repr(value)]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


def pydantic_details(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as FastAPI serialises them, located under ``body``."""
    details = []
    for error in exc.errors(include_url=False):
        item: dict[str, Any] = {
            "type": error["type"],
            "loc": ["body", *error["loc"]],
            "msg": error["msg"],
            "input": _json_safe(error.get("input")),
        }
        if "ctx" in error:
            item["ctx"] = _json_safe(error["ctx"])
        details.append(item)
    return details


def parse_request(model: type[Model], raw: bytes, content_type: str | None) -> tuple[Model, Any]:
    """Validate a request body; return the model and the decoded payload, or raise Mistral's 422."""
    payload = decode_body(raw, content_type)
    if payload is _MISSING:
        raise validation_failed(
            [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
        )
    try:
        return model.model_validate(payload), payload
    except ValidationError as exc:
        raise validation_failed(pydantic_details(exc)) from None
    except RecursionError:
        raise unparseable_body() from None
