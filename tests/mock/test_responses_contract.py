"""Mistral's native ``/v1/responses`` and ``/v1/responses/input_tokens`` on the mock: what the contract
accepts, and what it refuses, with the exact status and body, over HTTP, in synthetic and replay mode.

The constants of the stateless endpoint (``store``, ``background``, ``truncation``, ``top_logprobs``) are
literals in mistralai's models, so breaking one is a 422 located at the field, in Mistral's envelope like
every 422. The semantic refusals (400) are chat's, word for word, where chat's rule carries over
(``mistral_wire.contract.responses_semantics`` says which and why).
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

MODEL = "mistral-small-latest"
ASK = [{"role": "user", "content": "What's the weather in Paris?"}]
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
CALL = {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}


def create(**fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "input": ASK, **fields}


def unprocessable(*details: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "error",
        "message": {"detail": list(details)},
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def literal(field: str, value: Any, expected: str) -> dict[str, Any]:
    return {
        "type": "literal_error",
        "loc": ["body", field],
        "msg": f"Input should be {expected}",
        "input": value,
        "ctx": {"expected": expected},
    }


def refused(message: str) -> dict[str, Any]:
    return {
        "object": "error",
        "message": message,
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


INVALID_MODEL = {
    "object": "error",
    "message": "Invalid model: {}",
    "type": "invalid_model",
    "param": None,
    "code": "1500",
    "raw_status_code": 400,
}

REFUSALS: list[tuple[str, dict[str, Any], int, dict[str, Any]]] = [
    ("store true", create(store=True), 422, unprocessable(literal("store", True, "False"))),
    ("background true", create(background=True), 422, unprocessable(literal("background", True, "False"))),
    (
        "truncation auto",
        create(truncation="auto"),
        422,
        unprocessable(literal("truncation", "auto", "'disabled'")),
    ),
    ("top_logprobs 5", create(top_logprobs=5), 422, unprocessable(literal("top_logprobs", 5, "0"))),
    (
        "a built-in tool",
        create(tools=[{"type": "web_search"}]),
        422,
        unprocessable(
            {
                "type": "union_tag_invalid",
                "loc": ["body", "tools", 0],
                "msg": "Input tag 'web_search' found using 'type' does not match any of the expected tags: "
                "'function', 'namespace'",
                "input": {"type": "web_search"},
                "ctx": {
                    "discriminator": "'type'",
                    "tag": "web_search",
                    "expected_tags": "'function', 'namespace'",
                },
            }
        ),
    ),
    (
        "parallel_tool_calls null",
        create(parallel_tool_calls=None),
        422,
        unprocessable(
            {
                "type": "bool_type",
                "loc": ["body", "parallel_tool_calls"],
                "msg": "Input should be a valid boolean",
                "input": None,
            }
        ),
    ),
    (
        "an unknown model",
        create(model="no-such-model"),
        400,
        {**INVALID_MODEL, "message": "Invalid model: no-such-model"},
    ),
    (
        "an embedding model",
        create(model="mistral-embed"),
        400,
        {**INVALID_MODEL, "message": "Invalid model: mistral-embed"},
    ),
    (
        "an output without its call",
        create(input=[*ASK, {"type": "function_call_output", "call_id": "call_1", "output": "18 C"}]),
        400,
        refused("Unexpected tool call id call_1 in tool results"),
    ),
    (
        "two outputs for one call",
        create(
            input=[
                *ASK,
                CALL,
                {"type": "function_call_output", "call_id": "call_1", "output": "18 C"},
                {"type": "function_call_output", "call_id": "call_1", "output": "19 C"},
            ]
        ),
        400,
        refused("Duplicate tool call id call_1 in tool results"),
    ),
    (
        "a call without output",
        create(input=[*ASK, CALL]),
        400,
        refused("Not the same number of function calls and responses"),
    ),
    (
        "previous_response_id",
        create(previous_response_id="resp_1"),
        400,
        refused(
            "previous_response_id is not supported. Responses are not stored: send the full history in input."
        ),
    ),
    (
        "conversation",
        create(conversation="conv_1"),
        400,
        refused("conversation is not supported. Responses are not stored: send the full history in input."),
    ),
    ("prompt", create(prompt={"id": "pmpt_1"}), 400, refused("prompt is not supported.")),
    ("an empty input", create(input=[]), 400, refused("Conversation must have at least one message")),
    (
        "an image to a model without vision",
        create(
            model="codestral-latest",
            input=[
                {
                    "role": "user",
                    "content": [{"type": "input_image", "detail": "auto", "image_url": "https://x/y.png"}],
                }
            ],
        ),
        400,
        refused(
            "A request containing images has been given to a model which does not have the "
            "'vision' capability."
        ),
    ),
    (
        "tools to a model without function calling",
        create(model="voxtral-mini-latest", tools=[WEATHER]),
        400,
        refused(
            "A request containing tools has been given to a model which does not have the "
            "'function_calling' capability."
        ),
    ),
    (
        "reasoning.effort to a model without reasoning",
        create(model="codestral-latest", reasoning={"effort": "high"}),
        400,
        refused("reasoning_effort='high' is not supported for this model"),
    ),
    (
        "a function name with a space",
        create(tools=[{**WEATHER, "name": "get weather"}]),
        400,
        refused(
            "Function name was get weather but must be a-z, A-Z, 0-9, or contain underscores and "
            "dashes, with a maximum length of 64."
        ),
    ),
    (
        "a schema with $schema",
        create(
            text={
                "format": {"type": "json_schema", "name": "x", "schema": {"$schema": "x", "type": "object"}}
            }
        ),
        400,
        refused("Grammar error: at 2(3): failed to compile JSON schema"),
    ),
]


@pytest.mark.parametrize(("body", "status", "expected"), [pytest.param(*c[1:], id=c[0]) for c in REFUSALS])
def test_refusals_carry_mistrals_status_and_body(
    http: httpx.Client, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    answer = http.post("/v1/responses", json=body)
    assert (answer.status_code, answer.json()) == (status, expected)
    assert answer.headers["x-mock-source"] == "contract"


def test_input_items_of_other_kinds_are_refused(http: httpx.Client) -> None:
    """No ``item_reference`` (nothing is stored): an item no union member takes is a 422 naming each."""
    answer = http.post("/v1/responses", json=create(input=[{"type": "item_reference", "id": "msg_1"}]))
    assert answer.status_code == 422
    details = answer.json()["message"]["detail"]
    members = {detail["loc"][4] for detail in details if len(detail["loc"]) > 4}
    assert members == {
        "ResponsesEasyInputMessage",
        "ResponsesMessage",
        "ResponsesOutputMessage",
        "ResponsesFunctionCallOutput",
        "ResponsesReasoningItem",
        "ResponsesFunctionToolCall",
    }


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    # What mistralai 3.7.0 sends: every constant spelled out, nulls in its tools, ``type`` on easy messages.
    (
        "the SDK's body",
        {
            "model": MODEL,
            "input": [{"content": "hi", "role": "user", "type": "message"}],
            "parallel_tool_calls": True,
            "truncation": "disabled",
            "tools": [
                {
                    "name": "f",
                    "parameters": {"type": "object"},
                    "strict": None,
                    "type": "function",
                    "defer_loading": None,
                    "description": None,
                }
            ],
            "tool_choice": {"name": "f", "type": "function"},
            "reasoning": {"effort": "high"},
            "background": False,
            "stream": False,
            "store": False,
            "metadata": {"a": "b"},
            "top_logprobs": 0,
        },
    ),
    ("store null", create(store=None)),
    ("unknown top-level keys", create(user="u-1", service_tier="auto")),
    (
        "OpenAI's reasoning.summary, ignored",
        create(model="magistral-small-latest", reasoning={"effort": "low", "summary": "auto"}),
    ),
    (
        "a replayed turn as OpenAI clients send it back",
        create(
            input=[
                *ASK,
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": [
                        {"type": "output_text", "text": "Let me check.", "annotations": [], "logprobs": []}
                    ],
                },
                {**CALL, "id": "fc_1", "status": "completed"},
                {
                    "type": "function_call_output",
                    "call_id": "call_1",
                    "output": [{"type": "input_text", "text": "18 C"}],
                },
                {
                    "id": "rs_1",
                    "type": "reasoning",
                    "summary": [],
                    "content": [{"type": "reasoning_text", "text": "hm"}],
                },
                {"role": "developer", "content": [{"type": "input_text", "text": "Be brief."}]},
                {"role": "user", "content": "And tomorrow?"},
            ],
            tools=[WEATHER],
        ),
    ),
    (
        "a namespace tool",
        create(
            tools=[
                {
                    "type": "namespace",
                    "name": "weather",
                    "description": "Weather tools",
                    "tools": [
                        {"type": "function", "name": "get_weather", "parameters": WEATHER["parameters"]},
                        {
                            "type": "custom",
                            "name": "raw",
                            "format": {"type": "grammar", "syntax": "regex", "definition": "a+"},
                        },
                    ],
                }
            ]
        ),
    ),
    (
        "images and files",
        create(
            input=[
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Describe these."},
                        {"type": "input_image", "detail": "low", "image_url": "https://example.com/a.png"},
                        {"type": "input_file", "file_url": "https://example.com/a.pdf", "filename": "a.pdf"},
                    ],
                }
            ]
        ),
    ),
    ("text formats", create(text={"format": {"type": "json_object"}, "verbosity": "low"})),
    ("an empty tool list", create(tools=[])),
]


@pytest.mark.parametrize("body", [pytest.param(body, id=name) for name, body in ACCEPTED])
def test_what_the_sdk_models_allow_is_accepted(http: httpx.Client, body: dict[str, Any]) -> None:
    answer = http.post("/v1/responses", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["object"] == "response"


def test_input_tokens_has_the_conversation_fields_only(http: httpx.Client) -> None:
    """``store`` is not a field of the count request, which keeps unknown keys: it is not judged there."""
    counted = http.post("/v1/responses/input_tokens", json={"model": MODEL, "input": "Hello", "store": True})
    assert counted.status_code == 200
    assert counted.json()["object"] == "response.input_tokens"
    refused_model = http.post("/v1/responses/input_tokens", json={"model": "no-such-model", "input": "Hello"})
    assert refused_model.status_code == 400
    assert refused_model.json()["message"] == "Invalid model: no-such-model"
    missing = http.post("/v1/responses/input_tokens", json={"model": MODEL})
    assert missing.json()["message"]["detail"] == [
        {"type": "missing", "loc": ["body", "input"], "msg": "Field required", "input": {"model": MODEL}}
    ]


def test_replay_mode_refuses_like_the_synthetic_mock(
    start_mock: Callable[..., str], mock_url: str, tmp_path: Path
) -> None:
    """The contract judges the new routes in every mode: a refused request needs no recording."""
    replay = start_mock(mode="replay", recordings=tmp_path)
    headers = {"Authorization": "Bearer test-key"}
    for path, body in (
        ("/v1/responses", create(store=True)),
        ("/v1/responses/input_tokens", {"model": "nope", "input": "x"}),
    ):
        synthetic = httpx.post(f"{mock_url}{path}", json=body, headers=headers)
        replayed = httpx.post(f"{replay}{path}", json=body, headers=headers)
        assert replayed.status_code == synthetic.status_code >= 400
        assert replayed.content == synthetic.content
        assert replayed.headers["x-mock-source"] == "contract"
    accepted = httpx.post(f"{replay}/v1/responses", json=create(), headers=headers)
    assert (accepted.status_code, accepted.json()["type"]) == (404, "recording_not_found")
