"""Every kind of body the shim answers, validated against OpenAI's own response schemas.

Bodies are read off the wire (httpx, not the SDK, so nothing is parsed away) from a real shim in front of
the mock, or in front of an ``Upstream`` that sends a shape the mock does not produce. The oracle is
``../shared/specs/openai-openapi.yaml``, read with two rules, each narrow and stated:

* ``nullable: true`` is honoured. The spec is OpenAPI 3.1 but still uses 3.0's keyword in 111 places,
  among them the stream chunk's ``finish_reason`` and ``logprobs``, which OpenAI itself sends as null on
  every chunk but the last. JSON Schema 2020-12 ignores the keyword, which would make every stream invalid.
* A legacy completion stream chunk may have ``finish_reason: null``: the spec reuses
  CreateCompletionResponse for chunks, and its own streaming example for /completions shows null.

Base64 embeddings are a string where the spec's Embedding schema only knows floats (the format is
described only on the request's ``encoding_format``), so they are decoded before validation, and the
decoding itself is asserted.
"""

import array
import base64
import copy
import json
from typing import Any

import httpx2 as httpx
import pytest

from testkit.auth import AUTH
from testkit.spec import compile_validator, openai_spec, openai_wire_validator
from testkit.wire import (
    MODEL,
    ROLE,
    TIME,
    TOOL_STREAMS,
    USAGE,
    USER,
    WEATHER,
    json_answer,
    sse_answer,
    stream_chunk,
)


def valid(schema_name: str, body: Any) -> None:
    errors = openai_wire_validator(schema_name)(body)
    assert errors == [], f"{schema_name}: {errors}\n{json.dumps(body)[:1500]}"


def test_the_nullable_reading_is_needed_and_no_wider() -> None:
    chunk = {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "a"}, "logprobs": None, "finish_reason": None}],
    }
    strict = compile_validator(openai_spec(), "CreateChatCompletionStreamResponse")
    assert strict(chunk) != [], "the spec read strictly refuses OpenAI's own chunks"
    assert openai_wire_validator("CreateChatCompletionStreamResponse")(chunk) == []
    chunk["choices"][0]["finish_reason"] = "model_length"
    assert openai_wire_validator("CreateChatCompletionStreamResponse")(chunk) != []


# --- reading the shim's answers off the wire ----------------------------------------------------------------


def events(client: httpx.Client, path: str, body: dict[str, Any]) -> list[Any]:
    """The data of every SSE event the shim sent, ``[DONE]`` excluded (and required)."""
    with client.stream("POST", path, json={**body, "stream": True}) as response:
        assert response.status_code == 200, response.read()
        payloads = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    return [json.loads(payload) for payload in payloads[:-1]]


def post(client: httpx.Client, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    return response.json()


CHAT_CASES: dict[str, dict[str, Any]] = {
    "text": {"model": MODEL, "messages": USER, "max_tokens": 12},
    "n=2 with stop": {"model": MODEL, "messages": USER, "n": 2, "stop": ["."]},
    "tool calls": {"model": MODEL, "messages": USER, "tools": [WEATHER, TIME], "tool_choice": "required"},
    "reasoning": {"model": "mistral-small-latest", "messages": USER, "reasoning_effort": "high"},
    "legacy functions": {
        "model": MODEL,
        "messages": USER,
        "functions": [WEATHER["function"]],
        "function_call": {"name": "get_weather"},
    },
    "json schema": {
        "model": MODEL,
        "messages": USER,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "w",
                "schema": {"type": "object", "properties": {"t": {"type": "number"}}},
            },
        },
    },
}


@pytest.mark.parametrize("case", CHAT_CASES)
def test_chat_completions_are_openais(wire: httpx.Client, case: str) -> None:
    body = post(wire, "/v1/chat/completions", CHAT_CASES[case])
    valid("CreateChatCompletionResponse", body)
    message = body["choices"][0]["message"]
    if case in ("tool calls", "legacy functions"):
        assert message["content"] is None and (message.get("tool_calls") or message.get("function_call"))
    if case == "reasoning":
        assert isinstance(message["content"], str) and message["reasoning_content"]


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("case", CHAT_CASES)
def test_every_chat_chunk_is_openais(wire: httpx.Client, case: str, include_usage: bool) -> None:
    chunks = events(
        wire, "/v1/chat/completions", {**CHAT_CASES[case], "stream_options": {"include_usage": include_usage}}
    )
    for chunk in chunks:
        valid("CreateChatCompletionStreamResponse", chunk)
    assert (chunks[-1]["choices"] == [] and "usage" in chunks[-1]) is include_usage


def test_chunks_of_shapes_the_mock_does_not_send_are_openais(upstream: Any, start_shim: Any) -> None:
    shapes = [
        *TOOL_STREAMS.values(),
        [ROLE, stream_chunk({"content": "Cut"}, "model_length", usage=USAGE, p="abc")],
    ]
    for shape in shapes:
        _, url = upstream(sse_answer(shape))
        with httpx.Client(base_url=start_shim(upstream=url), headers=AUTH) as client:
            chunks = events(
                client,
                "/v1/chat/completions",
                {"model": MODEL, "messages": USER, "stream_options": {"include_usage": True}},
            )
        # every upstream chunk, the finish in a chunk of its own, and the usage chunk
        assert len(chunks) == len(shape) + 2
        for chunk in chunks:
            valid("CreateChatCompletionStreamResponse", chunk)


def test_a_chat_answer_with_logprobs_and_extra_usage_is_openais(upstream: Any, start_shim: Any) -> None:
    answer = {
        "id": "0d0e5c6f",
        "object": "chat.completion",
        "created": 1767000000,
        "model": MODEL,
        "usage": {**USAGE, "prompt_audio_seconds": None, "num_cached_tokens": 2, "service_tier": "standard"},
        "choices": [
            {
                "index": 0,
                "finish_reason": "model_length",
                "message": {"role": "assistant", "content": "Hi", "tool_calls": None, "prefix": False},
                "logprobs": {
                    "content": [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "token_id": 9}]
                },
            }
        ],
    }
    _, url = upstream(json_answer(200, answer))
    with httpx.Client(base_url=start_shim(upstream=url), headers=AUTH) as client:
        body = post(client, "/v1/chat/completions", {"model": MODEL, "messages": USER})
    valid("CreateChatCompletionResponse", body)
    assert body["choices"][0]["finish_reason"] == "length"


# --- legacy completions -------------------------------------------------------------------------------------

LEGACY_CASES = {
    "fim": {
        "model": "codestral-latest",
        "prompt": "def add(a, b):",
        "suffix": "    return c",
        "max_tokens": 10,
    },
    "chat": {"model": MODEL, "prompt": "Say hi", "max_tokens": 10},
}


def valid_legacy_chunk(chunk: dict[str, Any]) -> None:
    """A legacy stream chunk; ``finish_reason: null`` before the last one, as the spec's example shows."""
    checked = copy.deepcopy(chunk)
    for choice in checked["choices"]:
        if choice["finish_reason"] is None:
            choice["finish_reason"] = "stop"
    valid("CreateCompletionResponse", checked)


@pytest.mark.parametrize("case", LEGACY_CASES)
def test_legacy_completions_and_their_chunks_are_openais(wire: httpx.Client, case: str) -> None:
    valid("CreateCompletionResponse", post(wire, "/v1/completions", LEGACY_CASES[case]))
    chunks = events(
        wire, "/v1/completions", {**LEGACY_CASES[case], "stream_options": {"include_usage": True}}
    )
    for chunk in chunks:
        valid_legacy_chunk(chunk)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]][-1] in ("stop", "length")


# --- embeddings and models ----------------------------------------------------------------------------------


def test_float_embeddings_are_openais(wire: httpx.Client) -> None:
    body = post(
        wire, "/v1/embeddings", {"model": "mistral-embed", "input": ["a", "b"], "encoding_format": "float"}
    )
    valid("CreateEmbeddingResponse", body)


def test_base64_embeddings_are_openais_once_decoded(wire: httpx.Client) -> None:
    request = {"model": "mistral-embed", "input": ["a", "b"]}
    floats = post(wire, "/v1/embeddings", {**request, "encoding_format": "float"})
    body = post(wire, "/v1/embeddings", {**request, "encoding_format": "base64"})
    decoded = copy.deepcopy(body)
    for item, plain in zip(decoded["data"], floats["data"], strict=True):
        assert isinstance(item["embedding"], str)
        item["embedding"] = array.array("f", base64.b64decode(item["embedding"])).tolist()
        assert item["embedding"] == array.array("f", plain["embedding"]).tolist()
    valid("CreateEmbeddingResponse", decoded)


def test_the_model_list_and_a_model_are_openais(start_shim: Any) -> None:
    with httpx.Client(
        base_url=start_shim(aliases={"gpt-4o-mini": "mistral-small-latest"}), headers=AUTH
    ) as client:
        listed = client.get("/v1/models").json()
        one = client.get("/v1/models/gpt-4o-mini").json()
        retired = client.get("/v1/models/open-mistral-7b").json()
    valid("ListModelsResponse", listed)
    assert any(card["id"] == "gpt-4o-mini" for card in listed["data"])
    valid("Model", one)
    valid("Model", retired)
    assert retired["shutdown_date"] == "2026-01-31"


# --- errors -------------------------------------------------------------------------------------------------

SHIM_ERRORS: dict[str, tuple[str, str, dict[str, Any] | None, int]] = {
    "unknown model": ("POST", "/v1/chat/completions", {"model": "nope", "messages": USER}, 404),
    "unknown model retrieved": ("GET", "/v1/models/nope", None, 404),
    "mistral 422": ("POST", "/v1/chat/completions", {"model": MODEL, "messages": USER, "top_p": 2}, 400),
    "mistral 400": (
        "POST",
        "/v1/chat/completions",
        {"model": MODEL, "messages": [{"role": "tool", "content": "x"}]},
        400,
    ),
    "shim refusal": ("POST", "/v1/embeddings", {"model": "mistral-embed", "input": [1, 2]}, 400),
    "not json": ("POST", "/v1/chat/completions", None, 400),
    "unknown url": ("GET", "/v1/nothing-here", None, 404),
}


@pytest.mark.parametrize("case", SHIM_ERRORS)
def test_error_bodies_are_openais(wire: httpx.Client, case: str) -> None:
    method, path, body, status = SHIM_ERRORS[case]
    response = (
        wire.request(method, path, json=body)
        if body is not None
        else wire.request(method, path, content=b"{")
    )
    assert response.status_code == status, response.text
    valid("ErrorResponse", response.json())


def test_error_bodies_without_a_key_or_upstream_are_openais(start_shim: Any, shim_url: str) -> None:
    keyless = httpx.post(f"{shim_url}/v1/chat/completions", json={"model": MODEL, "messages": USER})
    assert keyless.status_code == 401
    valid("ErrorResponse", keyless.json())
    unreachable = start_shim(upstream="http://127.0.0.1:9")
    response = httpx.post(
        f"{unreachable}/v1/chat/completions", json={"model": MODEL, "messages": USER}, headers=AUTH
    )
    assert response.status_code == 502
    valid("ErrorResponse", response.json())


def test_an_error_event_inside_a_stream_is_openais_error_response(upstream: Any, start_shim: Any) -> None:
    _, url = upstream(sse_answer([ROLE, stream_chunk({"content": "x"}, "error")]))
    body = {"model": MODEL, "messages": USER, "stream": True}
    with (
        httpx.Client(base_url=start_shim(upstream=url), headers=AUTH) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        payloads = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert "[DONE]" not in payloads
    valid("CreateChatCompletionStreamResponse", json.loads(payloads[0]))
    valid("ErrorResponse", json.loads(payloads[-1]))
