"""OpenAI's ``Response`` object: the request's echo, a status, the output items and the usage.

The openai SDK reads a Response leniently, the Agents SDK and typed clients less so, and OpenAI's schema
requires a long list of keys (``id``, ``object``, ``created_at``, ``error``, ``incomplete_details``,
``instructions``, ``model``, ``tools``, ``output``, ``parallel_tool_calls``, ``metadata``, ``tool_choice``,
``temperature``, ``top_p``). Every Response the shim sends, in a JSON answer, in any stream event or from the
store, is built here from one ``ResponseContext``, so the keys never differ between them.

The echo says what the request asked for, with Mistral's own defaults where the client gave none: the
temperature is the model's default from Mistral's catalogue (not OpenAI's 1.0, which Mistral would not
have used), and the service tier is ``default`` (Mistral's standard tier).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# OpenAI's finish reasons (after chat's translation of Mistral's) that leave a response incomplete, and why.
INCOMPLETE: dict[str, str] = {"length": "max_output_tokens", "content_filter": "content_filter"}


@dataclass(frozen=True)
class ResponseContext:
    """What the answer's and the stream's translation must know about the request."""

    response_id: str
    created_at: int
    # The Response object's keys that come from the request (instructions, tools, metadata, ...).
    echo: Mapping[str, Any] = field(default_factory=dict)
    # include: ["message.output_text.logprobs"] (or top_logprobs): log probabilities on output_text.
    logprobs: bool = False
    # The most function calls an answer keeps (max_tool_calls); None: all of them.
    max_tool_calls: int | None = None


def response(
    context: ResponseContext,
    status: str,
    output: Sequence[Mapping[str, Any]] = (),
    *,
    usage: Mapping[str, Any] | None = None,
    model: Any = None,
    error: Mapping[str, Any] | None = None,
    incomplete_reason: str | None = None,
    completed_at: int | None = None,
) -> dict[str, Any]:
    """The Response object, in OpenAI's key order."""
    echo = context.echo
    made = {
        "id": context.response_id,
        "object": "response",
        "created_at": context.created_at,
        "status": status,
        "background": False,
        "completed_at": completed_at,
        "error": dict(error) if error is not None else None,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": echo.get("instructions"),
        "max_output_tokens": echo.get("max_output_tokens"),
        "max_tool_calls": echo.get("max_tool_calls"),
        "model": model if isinstance(model, str) and model and not echo.get("aliased") else echo.get("model"),
        "output": [dict(item) for item in output],
        "parallel_tool_calls": echo.get("parallel_tool_calls", True),
        "previous_response_id": echo.get("previous_response_id"),
        "prompt_cache_key": echo.get("prompt_cache_key"),
        "reasoning": dict(echo.get("reasoning") or {"effort": None, "summary": None}),
        "safety_identifier": echo.get("safety_identifier"),
        "service_tier": "default",
        "store": echo.get("store", True),
        "temperature": echo.get("temperature"),
        "text": dict(echo.get("text") or {"format": {"type": "text"}}),
        "tool_choice": echo.get("tool_choice", "auto"),
        "tools": [dict(tool) for tool in echo.get("tools") or []],
        "top_logprobs": echo.get("top_logprobs"),
        "top_p": echo.get("top_p"),
        "truncation": echo.get("truncation", "disabled"),
        "usage": dict(usage) if usage is not None else None,
        "user": echo.get("user"),
        "metadata": dict(echo.get("metadata") or {}),
    }
    # Keys OpenAI's schema types without null: absent until known (usage) or unless given (user, deprecated).
    for key in ("usage", "user"):
        if made[key] is None:
            del made[key]
    return made


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage(chat_usage: Any) -> dict[str, Any] | None:
    """OpenAI's ``ResponseUsage`` for a chat usage (as chat's translation orders Mistral's)."""
    if not isinstance(chat_usage, Mapping):
        return None
    prompt = _count(chat_usage.get("prompt_tokens"))
    completion = _count(chat_usage.get("completion_tokens"))
    prompt_details = chat_usage.get("prompt_tokens_details")
    completion_details = chat_usage.get("completion_tokens_details")
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, Mapping) else None
    reasoning = (
        completion_details.get("reasoning_tokens") if isinstance(completion_details, Mapping) else None
    )
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": _count(cached), "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": _count(reasoning)},
        "total_tokens": _count(chat_usage.get("total_tokens")) or prompt + completion,
    }


def status_of(finish_reason: Any) -> tuple[str, str | None]:
    """``(status, incomplete reason)`` for chat's finish reason: a cut answer is ``incomplete``."""
    reason = INCOMPLETE.get(finish_reason) if isinstance(finish_reason, str) else None
    return ("incomplete", reason) if reason else ("completed", None)


# --- output items -------------------------------------------------------------------------------------------


def output_text(text: str, logprobs: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": [dict(e) for e in logprobs]}


def message_item(item_id: str, status: str, parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "content": [dict(part) for part in parts],
        "role": "assistant",
    }


def reasoning_item(item_id: str, status: str, text: str | None) -> dict[str, Any]:
    """Mistral's thinking as a reasoning item: the raw text as ``reasoning_text`` content, no summary (Mistral
    does not summarise), and no ``encrypted_content`` (nothing is hidden)."""
    content = [] if text is None else [{"type": "reasoning_text", "text": text}]
    return {
        "id": item_id,
        "type": "reasoning",
        "summary": [],
        "content": content,
        "encrypted_content": None,
        "status": status,
    }


def function_call_item(item_id: str, status: str, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


def log_probs(chat_logprobs: Any) -> list[dict[str, Any]]:
    """OpenAI's ``LogProb`` entries from a chat choice's ``logprobs`` (as chat's translation shapes them)."""
    content = chat_logprobs.get("content") if isinstance(chat_logprobs, Mapping) else None
    if not isinstance(content, list):
        return []
    return [_log_prob(entry) for entry in content if isinstance(entry, Mapping)]


def _log_prob(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "token": entry.get("token"),
        "logprob": entry.get("logprob"),
        "bytes": entry.get("bytes") or [],
        "top_logprobs": [
            {"token": alt.get("token"), "logprob": alt.get("logprob"), "bytes": alt.get("bytes") or []}
            for alt in entry.get("top_logprobs") or []
            if isinstance(alt, Mapping)
        ],
    }


def delta_log_probs(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The shorter entries of a stream's ``output_text.delta`` (no ``bytes``)."""
    return [
        {
            "token": entry.get("token"),
            "logprob": entry.get("logprob"),
            "top_logprobs": [
                {"token": alt.get("token"), "logprob": alt.get("logprob")}
                for alt in entry.get("top_logprobs", [])
            ],
        }
        for entry in entries
    ]
