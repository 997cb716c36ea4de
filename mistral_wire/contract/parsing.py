"""Turning request bytes into a validated contract model, or into Mistral's refusal.

Mistral's API is FastAPI: the body is decoded as JSON when the content type is JSON or absent, then
validated by pydantic, and every failure becomes a 422 whose ``loc`` starts with ``"body"``. This module
reproduces those steps, so the mock refuses exactly what the API refuses, with the same details.
"""

import json
import math
import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

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


# --- parameters: query, path and form fields, as FastAPI reads them ---------------------------------------

Location = Literal["query", "path", "body"]
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _is_sequence(annotation: Any) -> bool:
    """Whether a field holds a list (FastAPI then reads every value of a repeated key, not the last)."""
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_is_sequence(argument) for argument in get_args(annotation))
    return False


def _bool_literal(annotation: Any) -> bool:
    """Whether a field only holds literal booleans (``Literal[False]``), which pydantic will not read from
    text, where FastAPI's form reading does (the SDK sends ``stream=false`` on every transcription)."""
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _bool_literal(arguments[0])
    if origin in (Union, types.UnionType):
        return any(_bool_literal(argument) for argument in arguments)
    return origin is Literal and all(isinstance(value, bool) for value in arguments)


def as_bool(text: str) -> bool | str:
    """Form text as FastAPI reads a boolean (``true``, ``1``, ``on`` ...), or the text itself."""
    lowered = text.strip().lower()
    return True if lowered in _TRUE else False if lowered in _FALSE else text


def parse_params(
    model: type[Model], values: Mapping[str, Sequence[str]], location: Location = "query"
) -> Model:
    """Validate text parameters (each key with every value it was sent with, in order) as FastAPI does:
    a list field takes every value, any other field the last one, an unknown key is ignored, and every
    failure is a 422 located at ``[location, name]``. In forms an empty value counts as absent."""
    gathered: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        sent = list(values.get(key, ()))
        if location == "body" and _is_sequence(field.annotation):
            sent += values.get(f"{key}[]", ())  # ``key[]`` (the live API takes both, ruby_llm 2026-08)
        if location == "body":
            sent = [value for value in sent if value != ""]
        if not sent:
            continue
        value: Any = sent if _is_sequence(field.annotation) else sent[-1]
        if _bool_literal(field.annotation) and isinstance(value, str):
            value = as_bool(value)
        gathered[key] = value
    try:
        return model.model_validate(gathered)
    except ValidationError as exc:
        details = pydantic_details(exc)
        for detail in details:
            detail["loc"] = [location, *detail["loc"][1:]]
            if detail["type"] == "missing":
                detail["input"] = None  # FastAPI validates each parameter alone: a missing one is null
        raise validation_failed(details) from None


def parse_form(
    model: type[Model], fields: Mapping[str, Sequence[str]], files: Mapping[str, Sequence[str]]
) -> Model:
    """Validate a form (``multipart/form-data`` or url-encoded): text fields, and file parts given as the
    reader's tokens. A field the model declares in ``FILE_FIELDS`` must come as a file part: sent as text
    it is FastAPI's "Expected UploadFile" 422; a file part under any other name is not read."""
    file_fields: frozenset[str] = getattr(model, "FILE_FIELDS", frozenset())
    for name in sorted(file_fields):
        if name not in files and fields.get(name):
            text = fields[name][-1]
            raise validation_failed(
                [
                    {
                        "type": "value_error",
                        "loc": ["body", name],
                        "msg": "Value error, Expected UploadFile, received: <class 'str'>",
                        "input": text,
                        "ctx": {"error": {}},
                    }
                ]
            )
    values = {k: v for k, v in fields.items() if k not in file_fields}
    values.update({k: v for k, v in files.items() if k in file_fields})
    return parse_params(model, values, "body")
