"""The spec oracle itself: it accepts real-shaped bodies, rejects broken ones, and forgives only what it says.

An oracle that passes everything would make every test built on it worthless, so each acceptance here is
paired with a rejection that names the offending field.
"""

import copy
from typing import Any

import pytest

from testkit import paths
from testkit.paths import require_shared
from testkit.spec import (
    compile_validator,
    mistral_response_validator,
    mistral_spec,
    openai_response_validator,
)

CHAT_RESPONSE: dict[str, Any] = {
    "id": "9f9d90210f194076abeee223863eaaf0",
    "created": 1,
    "model": "mistral-small-latest",
    "usage": {
        "prompt_tokens": 1,
        "total_tokens": 2,
        "completion_tokens": 1,
        "prompt_tokens_details": {"cached_tokens": 0},
        "service_tier": "standard",
    },
    "object": "chat.completion",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "tool_calls": None, "content": "hi"},
        }
    ],
}

TOOL_CALL_RESPONSE: dict[str, Any] = {
    **CHAT_RESPONSE,
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "KikbB849t",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        "index": 0,
                    }
                ],
            },
        }
    ],
}

STREAM_CHUNKS: list[dict[str, Any]] = [
    {
        "id": "9f9d90210f194076abeee223863eaaf0",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        "p": "abcdefghijklmnopqrstuvwxyz0",
    },
    {
        "id": "9f9d90210f194076abeee223863eaaf0",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 1,
            "total_tokens": 2,
            "completion_tokens": 1,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
        "p": "abc",
    },
]


def _with(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with the value at ``path`` replaced (or the key deleted when value is ...)."""
    changed = copy.deepcopy(body)
    parent: Any = changed
    for step in path[:-1]:
        parent = parent[step]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


@pytest.mark.parametrize("body", [CHAT_RESPONSE, TOOL_CALL_RESPONSE], ids=["text", "tool_calls"])
def test_a_real_shaped_chat_response_validates(body: dict[str, Any]) -> None:
    assert mistral_response_validator("ChatCompletionResponse")(body) == []


def test_a_fim_response_validates() -> None:
    body = {**CHAT_RESPONSE, "model": "codestral-latest"}
    assert mistral_response_validator("FIMCompletionResponse")(body) == []


@pytest.mark.parametrize("index", range(len(STREAM_CHUNKS)))
def test_real_shaped_stream_chunks_validate(index: int) -> None:
    assert mistral_response_validator("CompletionChunk")(STREAM_CHUNKS[index]) == []


@pytest.mark.parametrize(
    ("schema_name", "body", "expected"),
    [
        pytest.param(
            "ChatCompletionResponse",
            _with(CHAT_RESPONSE, ("choices", 0, "finish_reason"), 7),
            "$.choices[0].finish_reason: 7 is not of type 'string'",
            id="finish_reason-not-a-string",
        ),
        pytest.param(
            "ChatCompletionResponse",
            _with(CHAT_RESPONSE, ("choices",), ...),
            "$: 'choices' is a required property",
            id="choices-missing",
        ),
        pytest.param(
            "ChatCompletionResponse",
            _with(CHAT_RESPONSE, ("id",), ...),
            "$: 'id' is a required property",
            id="id-missing",
        ),
        pytest.param(
            "ChatCompletionResponse",
            _with(CHAT_RESPONSE, ("usage", "prompt_tokens"), "1"),
            "$.usage.prompt_tokens: '1' is not of type 'integer'",
            id="prompt_tokens-not-an-integer",
        ),
        pytest.param(
            "ChatCompletionResponse",
            _with(CHAT_RESPONSE, ("choices", 0, "message", "role"), "user"),
            "$.choices[0].message.role: 'assistant' was expected",
            id="message-role-not-assistant",
        ),
        pytest.param(
            "FIMCompletionResponse",
            _with(CHAT_RESPONSE, ("created",), "yesterday"),
            "$.created: 'yesterday' is not of type 'integer'",
            id="fim-created-not-an-integer",
        ),
        pytest.param(
            "CompletionChunk",
            _with(STREAM_CHUNKS[1], ("choices", 0, "delta", "content"), 5),
            "$.choices[0].delta.content: 5 is not valid under any of the given schemas",
            id="chunk-content-a-number",
        ),
        pytest.param(
            "CompletionChunk",
            _with(STREAM_CHUNKS[0], ("choices", 0, "delta"), ...),
            "$.choices[0]: 'delta' is a required property",
            id="chunk-delta-missing",
        ),
    ],
)
def test_a_broken_body_fails_with_a_readable_message(schema_name: str, body: Any, expected: str) -> None:
    errors = mistral_response_validator(schema_name)(body)
    assert any(error.startswith(expected) for error in errors), errors


def test_the_forgiven_defects_are_real_and_the_only_reasons_the_raw_spec_rejects() -> None:
    """Without forgiveness the spec rejects a real body for exactly the two known defects; none other."""
    raw = compile_validator(mistral_spec(), "ChatCompletionResponse")
    errors = raw(CHAT_RESPONSE)
    assert "$: 'data' is a required property" in errors, errors
    assert any(
        error.startswith("$.usage: Additional properties are not allowed ('prompt_tokens_details'")
        for error in errors
    ), errors
    assert len(errors) == 2, errors
    stream_errors = compile_validator(mistral_spec(), "CompletionChunk")(STREAM_CHUNKS[1])
    assert len(stream_errors) == 1 and "prompt_tokens_details" in stream_errors[0], stream_errors


def test_forgiveness_does_not_touch_the_spec() -> None:
    mistral_response_validator("ChatCompletionResponse")
    schemas = mistral_spec()["components"]["schemas"]
    assert schemas["UsageInfo"]["additionalProperties"] is False
    assert "data" in schemas["ChatCompletionResponse"]["allOf"][1]["required"]


def test_an_unknown_schema_name_is_an_error_not_a_pass() -> None:
    with pytest.raises(KeyError, match="NoSuchSchema"):
        mistral_response_validator("NoSuchSchema")


def test_the_openai_oracle_forgives_nothing() -> None:
    validate = openai_response_validator("CreateChatCompletionResponse")
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": "hi", "refusal": None},
            }
        ],
    }
    assert validate(body) == []
    assert any(
        error.startswith("$.choices[0]: 'logprobs' is a required property")
        for error in validate(_with(body, ("choices", 0, "logprobs"), ...))
    )
    # Mistral's finish_reason "model_length" is not one of OpenAI's.
    assert validate(_with(body, ("choices", 0, "finish_reason"), "model_length")) != []


def test_require_shared_skips_with_the_reason_when_shared_is_absent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setattr(paths, "SHARED", tmp_path / "no-shared-here")
    with pytest.raises(pytest.skip.Exception, match=r"^\.\./shared is absent: "):
        require_shared()
