"""OpenAI's JSON type for every top-level request field, checked before a request is translated.

OpenAI refuses ``"temperature": "0.5"`` or ``"stream": "true"`` with a 400 that names the field; Mistral's
pydantic models would coerce both and answer. A client of the shim must get OpenAI's answer, and the shim
itself must not guess: it decides between a JSON answer and a stream by ``stream is True``, so a ``"true"``
that Mistral reads as a stream would come back as a stream the shim never asked for. One table per
endpoint, a row per OpenAI field (as in OpenAI's spec, which a test holds them against); ``null`` always
passes, as the parameter tables treat it as absent. Only the top level is checked: what is inside
``messages`` or ``tools`` is the translators' and Mistral's to judge. Fields that are not OpenAI's
(Mistral's own, sent through ``extra_body``) are Mistral's to check.
"""

from collections.abc import Mapping
from typing import Any, Literal

from shim.translate.problem import OpenAIError

Kind = Literal["string", "integer", "number", "boolean", "object", "array"]

_STRING: tuple[Kind, ...] = ("string",)
_INTEGER: tuple[Kind, ...] = ("integer",)
_NUMBER: tuple[Kind, ...] = ("number",)
_BOOLEAN: tuple[Kind, ...] = ("boolean",)
_OBJECT: tuple[Kind, ...] = ("object",)
_ARRAY: tuple[Kind, ...] = ("array",)
_TEXTS: tuple[Kind, ...] = ("string", "array")
_CHOICE: tuple[Kind, ...] = ("object", "string")

CHAT: dict[str, tuple[Kind, ...]] = {
    "messages": _ARRAY,
    "model": _STRING,
    "metadata": _OBJECT,
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "user": _STRING,
    "safety_identifier": _STRING,
    "prompt_cache_key": _STRING,
    "prompt_cache_retention": _STRING,
    "prompt_cache_options": _OBJECT,
    "service_tier": _STRING,
    "modalities": _ARRAY,
    "verbosity": _STRING,
    "reasoning_effort": _STRING,
    "max_completion_tokens": _INTEGER,
    "frequency_penalty": _NUMBER,
    "presence_penalty": _NUMBER,
    "web_search_options": _OBJECT,
    "top_logprobs": _INTEGER,
    "response_format": _OBJECT,
    "audio": _OBJECT,
    "store": _BOOLEAN,
    "moderation": _OBJECT,
    "stream": _BOOLEAN,
    "stop": _TEXTS,
    "logit_bias": _OBJECT,
    "logprobs": _BOOLEAN,
    "max_tokens": _INTEGER,
    "n": _INTEGER,
    "prediction": _OBJECT,
    "seed": _INTEGER,
    "stream_options": _OBJECT,
    "tools": _ARRAY,
    "tool_choice": _CHOICE,
    "parallel_tool_calls": _BOOLEAN,
    "function_call": _CHOICE,
    "functions": _ARRAY,
}

COMPLETIONS: dict[str, tuple[Kind, ...]] = {
    "model": _STRING,
    "prompt": _TEXTS,
    "best_of": _INTEGER,
    "echo": _BOOLEAN,
    "frequency_penalty": _NUMBER,
    "logit_bias": _OBJECT,
    "logprobs": _INTEGER,
    "max_tokens": _INTEGER,
    "n": _INTEGER,
    "presence_penalty": _NUMBER,
    "seed": _INTEGER,
    "stop": _TEXTS,
    "stream": _BOOLEAN,
    "stream_options": _OBJECT,
    "suffix": _STRING,
    "temperature": _NUMBER,
    "top_p": _NUMBER,
    "user": _STRING,
}

EMBEDDINGS: dict[str, tuple[Kind, ...]] = {
    "input": _TEXTS,
    "model": _STRING,
    "encoding_format": _STRING,
    "dimensions": _INTEGER,
    "user": _STRING,
}

_NAMES: dict[Kind, str] = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}


def kind_of(value: Any) -> Kind | Literal["null"]:
    """The JSON type of a parsed value; an integral number is an integer, as JSON Schema has it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _accepts(kinds: tuple[Kind, ...], kind: str) -> bool:
    return kind in kinds or (kind == "integer" and "number" in kinds)


def check(body: Mapping[str, Any], table: Mapping[str, tuple[Kind, ...]]) -> None:
    """Raise OpenAI's 400 ``invalid_type`` for the first field whose value has a type OpenAI refuses."""
    for name, value in body.items():
        kinds = table.get(name)
        if kinds is None or value is None:
            continue
        kind = kind_of(value)
        if not _accepts(kinds, kind):
            expected = " or ".join(_NAMES[k] for k in kinds)
            got = "a decimal number" if kind == "number" else _NAMES[kind]
            raise OpenAIError(
                400,
                f"Invalid type for '{name}': expected {expected}, but got {got} instead.",
                param=name,
                code="invalid_type",
            )
