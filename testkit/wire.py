"""Mistral's side of the wire, canned: the requests tests send, and answers, stream chunks and SSE framing as
api.mistral.ai sends them, for the fake upstream (``testkit.upstream``) to send byte for byte; and, at the
end, an answer and a chunk as OpenAI sends them.

Two families of values: ``CHAT`` and ``MISTRAL_ANSWER`` (a small request and its plain answer) for the
server and hardening tests, and ``MODEL``, ``USER``, the tools and the stream shapes of the failure catalogue
(``TOOL_STREAMS``: tool-call deltas the synthetic mock never sends).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# --- a request, and Mistral's plain answer to it ------------------------------------------------------------

CHAT = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Say hello."}]}
CHAT_STREAM = {**CHAT, "stream": True, "max_tokens": 12}
MISTRAL_ANSWER = {
    "id": "a1b2c3",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "mistral-small-latest",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}

# --- the failure catalogue's requests -----------------------------------------------------------------------

MODEL = "mistral-large-latest"
USER = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}

# --- whole answers, for an upstream to send -----------------------------------------------------------------


@dataclass(frozen=True)
class Canned:
    """One upstream answer, byte for byte: status, body and headers; framed with a Content-Length, or
    ``chunked`` (``Transfer-Encoding: chunked``, the body as one chunk), as Mistral frames its streams."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    chunked: bool = False


def json_answer(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Canned:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Canned(status, body, {"Content-Type": "application/json", **(headers or {})})


def sse_answer(events: list[Any], *, done: bool = True, chunked: bool = False) -> Canned:
    """Mistral's SSE framing: ``data: <json>`` events, then ``data: [DONE]`` unless the stream is cut."""
    lines = [b"data: " + (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n\n" for e in events]
    if done:
        lines.append(b"data: [DONE]\n\n")
    return Canned(200, b"".join(lines), {"Content-Type": "text/event-stream"}, chunked)


# --- pieces of answers, for a script that writes them itself ------------------------------------------------


def response_head(status: int = 200, content_type: str = "application/json", extra: str = "") -> bytes:
    """A response head with no length: the body ends when the connection closes."""
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nConnection: close\r\n{extra}\r\n"
    ).encode()


def sse(event: object) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def chunk(text: str, finish: str | None = None) -> dict:
    """A Mistral chat stream chunk carrying ``text``."""
    return {
        "id": "0a1b2c3d4e5f",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": finish}],
    }


SSE_HEAD = response_head(content_type="text/event-stream")
HELLO = sse(chunk("Hel"))

# --- stream shapes of the failure catalogue -----------------------------------------------------------------


def stream_chunk(delta: dict[str, Any], finish: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "0d0e5c6f7a8b4c9d8e7f6a5b4c3d2e1f",
        "object": "chat.completion.chunk",
        "created": 1767000000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


USAGE = {"prompt_tokens": 20, "total_tokens": 50, "completion_tokens": 30}
ROLE = stream_chunk({"role": "assistant", "content": ""})
TOOL_STREAMS = {
    "whole-call-no-index": [
        ROLE,
        stream_chunk(
            {
                "tool_calls": [
                    {"id": "D681PevKs", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
                ]
            },
            "tool_calls",
            usage=USAGE,
        ),
    ],
    "parallel-in-one-delta-index-0": [
        ROLE,
        stream_chunk(
            {
                "tool_calls": [
                    {
                        "id": "D681PevKs",
                        "index": 0,
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "Qe3rT5yU7",
                        "index": 0,
                        "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                    },
                ]
            },
            "tool_calls",
            usage=USAGE,
        ),
    ],
    "glm-fragments": [
        ROLE,
        stream_chunk(
            {"tool_calls": [{"id": "D681PevKs", "function": {"name": "get_weather", "arguments": '{"ci'}}]}
        ),
        stream_chunk({"tool_calls": [{"function": {"arguments": 'ty": "Paris"}'}}]}),
        stream_chunk(
            {"tool_calls": [{"id": "Qe3rT5yU7", "function": {"name": "get_weather", "arguments": ""}}]}
        ),
        stream_chunk(
            {"tool_calls": [{"function": {"arguments": '{"city": "Rome"}'}}]}, "tool_calls", usage=USAGE
        ),
    ],
}
"""Tool-call deltas as other servers (and Mistral, in places) fragment them; the synthetic mock sends none."""

# --- OpenAI's side: what a client of the shim must be answered ----------

OPENAI_ANSWER: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "mistral-small-latest",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello.", "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
}
OPENAI_CHUNK: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "mistral-small-latest",
    "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}],
}
