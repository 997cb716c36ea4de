"""Mistral's non-stream chat answer → OpenAI's ``CreateChatCompletionResponse``.

Mistral's body is close to OpenAI's but differs where typed clients break (reference §9, response side):
``message.content`` can be a list of thinking and text chunks, it is ``""`` rather than null beside tool
calls, ``refusal`` and ``logprobs`` are missing although OpenAI's schema requires the keys, tool calls may
lack ``type`` and carry an ``index``, ``finish_reason`` can be ``model_length`` or ``error``, and usage
keys come in another order. The helpers for content, finish reasons, tool-call ids and usage live here
because the stream translator must make exactly the same choices: a streamed answer reassembled by the
openai SDK has to equal the non-stream one.
"""

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shim.translate.context import ChatContext
from shim.translate.problem import OpenAIError, server_error

# Mistral's finish reasons → OpenAI's. ``error`` is missing on purpose: it is raised, never mapped.
FINISH_REASONS: dict[str, str] = {
    "stop": "stop",
    "length": "length",
    "model_length": "length",  # the context window was hit: for the client, the answer was cut short
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "function_call",
}
# A value outside OpenAI's enum breaks strict clients (catalogue 34); an unknown one most likely means the
# model stopped for a reason Mistral added later, so it is reported as a normal stop (Portkey does the same).
UNKNOWN_FINISH = "stop"

USAGE_FIRST = ("prompt_tokens", "completion_tokens", "total_tokens")

# Keys Mistral puts in a message (or a delta) that OpenAI has no place for.
MISTRAL_ONLY_MESSAGE_KEYS = frozenset({"prefix", "tool_call_id", "index"})


def generation_failed(model: Any) -> OpenAIError:
    """The error for ``finish_reason: "error"``: a failed generation must not look like a success."""
    return server_error(
        502,
        f"Mistral reported that generating the answer failed (finish_reason 'error', model {model!r}).",
        "upstream_generation_error",
    )


def finish_reason(value: Any, context: ChatContext, model: Any = None) -> str | None:
    """OpenAI's finish reason for Mistral's; None stays None (a stream chunk that does not finish)."""
    if value is None:
        return None
    if value == "error":
        raise generation_failed(model)
    mapped = FINISH_REASONS.get(value, UNKNOWN_FINISH) if isinstance(value, str) else UNKNOWN_FINISH
    if mapped == "tool_calls" and context.legacy_functions:
        return "function_call"
    return mapped


def _chunk_text(chunk: Any) -> str:
    """The text of a text chunk, or of the text chunks inside a thinking chunk's ``thinking`` list."""
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, dict) and isinstance(text := chunk.get("text"), str):
        return text
    return ""


def split_content(content: Any) -> tuple[str | None, str | None]:
    """``(text, reasoning)`` of a Mistral ``content``: a string, null, or a list of chunks.

    A list joins its text chunks into the text and its thinking chunks into the reasoning; either is None
    when the list had no chunk of that kind, so a caller can tell "no text" from "empty text". Other chunk
    kinds (e.g. references) have no OpenAI equivalent in a chat message and are left out.
    """
    if not isinstance(content, list):
        return (content if isinstance(content, str) else None), None
    texts: list[str] | None = None
    thoughts: list[str] | None = None
    for chunk in content:
        if not isinstance(chunk, dict):
            continue
        kind = chunk.get("type")
        if kind == "text":
            texts = [*(texts or []), _chunk_text(chunk)]
        elif kind == "thinking":
            inner = chunk.get("thinking")
            parts = inner if isinstance(inner, list) else [inner]
            thoughts = [*(thoughts or []), *(_chunk_text(part) for part in parts)]
    return (
        None if texts is None else "".join(texts),
        None if thoughts is None else "".join(thoughts),
    )


def fallback_call_id(completion_id: Any, choice: int, call: int) -> str:
    """A stable 9-character id for a tool call Mistral sent without one (2024-03 bodies did).

    OpenAI requires an id and clients send it back with the tool result; deriving it from the completion
    id and position gives the stream and the non-stream translation the same id, in Mistral's own format.
    """
    digest = hashlib.sha256(f"{completion_id}:{choice}:{call}".encode()).hexdigest()
    return digest[:9]


def arguments_text(arguments: Any) -> str:
    """Tool-call arguments as OpenAI's JSON string (old Mistral models could send an object)."""
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)


def order_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """Usage in OpenAI's key order, Mistral's extra keys kept after the three counters.

    Null extras are dropped (OpenAI's schema types them as objects and they carry nothing), and Mistral's
    ``num_cached_tokens`` also fills ``prompt_tokens_details.cached_tokens`` when that is missing, because
    that is where OpenAI clients read prompt-cache hits.
    """
    ordered = {key: usage[key] for key in USAGE_FIRST if key in usage}
    ordered.update(
        (key, value) for key, value in usage.items() if key not in USAGE_FIRST and value is not None
    )
    cached = usage.get("num_cached_tokens")
    if "prompt_tokens_details" not in ordered and isinstance(cached, int):
        ordered["prompt_tokens_details"] = {"cached_tokens": cached}
    return ordered


def _tool_call(call: Mapping[str, Any], completion_id: Any, choice: int, position: int) -> dict[str, Any]:
    function = call.get("function") or {}
    return {
        "id": call.get("id") or fallback_call_id(completion_id, choice, position),
        "type": "function",
        "function": {
            "name": function.get("name") or "",
            "arguments": arguments_text(function.get("arguments")),
        },
    }


def _message(
    message: Mapping[str, Any], context: ChatContext, completion_id: Any, choice: int
) -> dict[str, Any]:
    text, reasoning = split_content(message.get("content"))
    calls = [
        _tool_call(call, completion_id, choice, position)
        for position, call in enumerate(message.get("tool_calls") or [])
        if isinstance(call, dict)
    ]
    out: dict[str, Any] = {"role": message.get("role") or "assistant"}
    # Beside tool calls an empty content is null, as OpenAI sends it (catalogue 33).
    out["content"] = text if text else (None if calls else "")
    if reasoning is not None:
        out["reasoning_content"] = reasoning
    out["refusal"] = None
    if calls and context.legacy_functions:
        # Legacy ``functions`` answers carry one call; OpenAI never produced more than one there.
        out["function_call"] = dict(calls[0]["function"])
    elif calls:
        out["tool_calls"] = calls
    handled = {"role", "content", "tool_calls", "refusal", *MISTRAL_ONLY_MESSAGE_KEYS}
    out.update((key, value) for key, value in message.items() if key not in handled and value is not None)
    return out


def _token(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One of Mistral's token entries as OpenAI's: ``token``, ``logprob``, ``bytes`` (no ``token_id``)."""
    raw = entry.get("bytes")
    token = entry.get("token")
    return {
        "token": token,
        "logprob": entry.get("logprob"),
        "bytes": raw if isinstance(raw, list) else (list(token.encode()) if isinstance(token, str) else None),
    }


def logprobs(value: Any) -> Any:
    """A choice's logprobs in OpenAI's shape: null when absent, else ``content`` entries of ``token``,
    ``logprob``, ``bytes`` and ``top_logprobs`` (OpenAI requires the list on every entry; Mistral sends it
    only when alternatives were asked for), and ``refusal`` null. Mistral's ``token_id`` has no place in
    OpenAI's entry and is left out, for clients that read the entries strictly."""
    if not isinstance(value, dict):
        return None
    content = value.get("content")
    if isinstance(content, list):
        content = [
            {
                **_token(entry),
                "top_logprobs": [
                    _token(alt) for alt in entry.get("top_logprobs") or [] if isinstance(alt, dict)
                ],
            }
            if isinstance(entry, dict)
            else entry
            for entry in content
        ]
    return {"content": content, "refusal": value.get("refusal")}


def _choice(choice: Mapping[str, Any], context: ChatContext, body: Mapping[str, Any]) -> dict[str, Any]:
    index = choice.get("index", 0)
    message = _message(choice.get("message") or {}, context, body.get("id"), index)
    reason = finish_reason(choice.get("finish_reason"), context, body.get("model")) or UNKNOWN_FINISH
    out: dict[str, Any] = {
        "index": index,
        "message": message,
        "logprobs": logprobs(choice.get("logprobs")),
        "finish_reason": reason,
    }
    out.update((key, value) for key, value in choice.items() if key not in out and value is not None)
    return out


def translate_chat_response(body: Mapping[str, Any], context: ChatContext) -> dict[str, Any]:
    """OpenAI's ``chat.completion`` for Mistral's non-stream chat answer ``body``.

    Raises ``OpenAIError`` (502) when a choice finished with ``error``. Keys Mistral adds that OpenAI does
    not know are kept, so nothing the upstream said is lost.
    """
    choices = [
        _choice(choice, context, body) for choice in body.get("choices") or [] if isinstance(choice, dict)
    ]
    out: dict[str, Any] = {
        "id": body.get("id"),
        "object": "chat.completion",
        "created": body.get("created"),
        "model": body.get("model"),
        "choices": choices,
    }
    if isinstance(body.get("usage"), dict):
        out["usage"] = order_usage(body["usage"])
    out.update(
        (key, value) for key, value in body.items() if key not in out and key != "p" and value is not None
    )
    return out
