"""Every rejection of FAILURE-CATALOGUE.md that Mistral makes, against a running mock.

Each case names its catalogue entry, sends the triggering request over HTTP and asserts the status and the
body Mistral sends: exact where the live body is known, the known parts where only those are.
"""

from typing import Any

import httpx2 as httpx
import pytest

MODEL = "mistral-small-latest"
USER = {"role": "user", "content": "What is the weather in Paris?"}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def chat(**fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [USER], **fields}


def call(call_id: str = "D681PevKs", name: str = "get_weather") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": '{"city": "Paris"}'}}


def extra(loc: list[Any], value: Any) -> dict[str, Any]:
    return {"type": "extra_forbidden", "loc": loc, "msg": "Extra inputs are not permitted", "input": value}


def unprocessable(*details: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "error",
        "message": {"detail": list(details)},
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def refused(message: str, type_: str = "invalid_request_error", code: str | None = None, **more: Any) -> dict:
    return {"object": "error", "message": message, "type": type_, "param": None, "code": code, **more}


def order(message: str) -> dict[str, Any]:
    return refused(message, "invalid_request_message_order", "3230")


TOOL_TURNS = [USER, {"role": "assistant", "content": "", "tool_calls": [call()]}]
TOOL_RESULT = {"role": "tool", "content": "18 C", "tool_call_id": "D681PevKs", "name": "get_weather"}

CASES: list[tuple[str, dict[str, Any], int, dict[str, Any]]] = [
    (
        "01-stream_options",
        chat(stream=True, stream_options={"include_usage": True}),
        422,
        unprocessable(extra(["body", "stream_options", "include_usage"], True)),
    ),
    (
        "02-max_completion_tokens",
        chat(max_completion_tokens=32000),
        422,
        unprocessable(extra(["body", "max_completion_tokens"], 32000)),
    ),
    ("03-store", chat(store=False), 422, unprocessable(extra(["body", "store"], False))),
    ("04-seed", chat(seed=-1), 422, unprocessable(extra(["body", "seed"], -1))),
    ("05-user", chat(user="default_user_id"), 422, unprocessable(extra(["body", "user"], "default_user_id"))),
    (
        "06-functions",
        chat(functions=[WEATHER_TOOL["function"]], function_call="auto"),
        422,
        unprocessable(
            extra(["body", "functions"], [WEATHER_TOOL["function"]]), extra(["body", "function_call"], "auto")
        ),
    ),
    (
        "10-empty-tools",
        chat(tools=[]),
        422,
        {
            "object": "Error",
            "detail": [extra(["body", "tools"], [])],
            "message": [extra(["body", "tools"], [])],
            "type": "invalid_request_error",
            "code": 3001,
        },
    ),
    (
        "12-name-on-user",
        {"model": MODEL, "messages": [{"role": "user", "name": "", "content": "hi", "tool_calls": None}]},
        422,
        unprocessable(
            extra(["body", "messages", 0, "user", "name"], ""),
            extra(["body", "messages", 0, "user", "tool_calls"], None),
        ),
    ),
    (
        "13-reasoning_content",
        {
            "model": MODEL,
            "messages": [USER, {"role": "assistant", "content": "ok", "reasoning_content": "\n"}, USER],
        },
        422,
        unprocessable(extra(["body", "messages", 1, "assistant", "reasoning_content"], "\n")),
    ),
    (
        "14-id-on-system",
        {"model": MODEL, "messages": [{"role": "system", "id": "b4405b59", "content": "Be brief."}, USER]},
        422,
        unprocessable(extra(["body", "messages", 0, "system", "id"], "b4405b59")),
    ),
    (
        "15-name-inside-tool-call",
        {
            "model": MODEL,
            "messages": [USER, {"role": "assistant", "tool_calls": [{**call(), "name": None}]}, TOOL_RESULT],
        },
        422,
        unprocessable(extra(["body", "messages", 1, "assistant", "tool_calls", 0, "name"], None)),
    ),
    (
        "16-user-after-tool",
        {"model": "mistral-medium-latest", "messages": [*TOOL_TURNS, TOOL_RESULT, USER]},
        400,
        order("Unexpected role 'user' after role 'tool'"),
    ),
    (
        "17-tool-after-user",
        {"model": MODEL, "messages": [USER, TOOL_RESULT]},
        400,
        order("Unexpected role 'tool' after role 'user'"),
    ),
    (
        "18-calls-and-results-count",
        {
            "model": MODEL,
            "messages": [USER, {"role": "assistant", "tool_calls": [call(), call("Q7vT2LmXa")]}, TOOL_RESULT],
        },
        400,
        # invalid_request_error / null on /v1/chat/completions (camel#1467, client-ts#106); the code 3230
        # report (client-python#234) came from the Agents API.
        refused("Not the same number of function calls and responses"),
    ),
    (
        "19-last-role-assistant",
        {"model": MODEL, "messages": [USER, {"role": "assistant", "content": "Argentina"}]},
        400,
        refused(
            "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant"
        ),
    ),
    (
        "20-system-not-first",
        {
            "model": MODEL,
            "messages": [
                USER,
                {"role": "assistant", "content": "a"},
                {"role": "system", "content": "s"},
                USER,
            ],
        },
        400,
        order("Unexpected role 'system' after role 'assistant'"),
    ),
    (
        "21-developer-role",
        {"model": MODEL, "messages": [{"role": "developer", "content": "Be brief."}, USER]},
        422,
        unprocessable(
            {
                "type": "union_tag_invalid",
                "loc": ["body", "messages", 0],
                "msg": "Input tag 'developer' found using 'role' does not match any of the expected tags: "
                "'system', 'user', 'assistant', 'tool'",
                "input": {"role": "developer", "content": "Be brief."},
                "ctx": {
                    "discriminator": "'role'",
                    "tag": "developer",
                    "expected_tags": "'system', 'user', 'assistant', 'tool'",
                },
            }
        ),
    ),
    (
        "22-empty-assistant",
        {"model": MODEL, "messages": [USER, {"role": "assistant", "content": ""}, USER]},
        400,
        refused("Assistant message must have either content or tool_calls, but not none."),
    ),
    (
        "24-empty-text-chunks",
        {
            "model": MODEL,
            "messages": [USER, {"role": "assistant", "content": [{"type": "text", "text": ""}]}, USER],
        },
        500,
        {"code": "3600", "message": "Service unavailable.", "type": "internal_server_error"},
    ),
    (
        "25-tool-call-id",
        {
            "model": MODEL,
            "messages": [
                USER,
                {"role": "assistant", "tool_calls": [call("call_PTLP8xhu3uwZk4l3nlnrrJha")]},
                {**TOOL_RESULT, "tool_call_id": "call_PTLP8xhu3uwZk4l3nlnrrJha"},
            ],
        },
        400,
        refused(
            "Tool call id was call_PTLP8xhu3uwZk4l3nlnrrJha but must be a-z, A-Z, 0-9, with a length of 9.",
            "invalid_function_call",
            "3280",
            raw_status_code=400,
        ),
    ),
    (
        "25-tool-call-id-missing",
        {
            "model": MODEL,
            "messages": [
                USER,
                {
                    "role": "assistant",
                    "tool_calls": [{"function": {"name": "get_weather", "arguments": "{}"}}],
                },
                {"role": "tool", "content": "18 C"},
            ],
        },
        400,
        # The live wording for an id-less call (the spec's default id is the string "null"): client-js#69.
        refused(
            "Tool call id was null but must be a-z, A-Z, 0-9, with a length of 9.",
            "invalid_function_call",
            "3280",
            raw_status_code=400,
        ),
    ),
    (
        "25-tool-call-id-null",
        {
            "model": MODEL,
            "messages": [
                USER,
                {"role": "assistant", "tool_calls": [call("null")]},
                {**TOOL_RESULT, "tool_call_id": "null"},
            ],
        },
        400,
        refused(
            "Tool call id was null but must be a-z, A-Z, 0-9, with a length of 9.",
            "invalid_function_call",
            "3280",
            raw_status_code=400,
        ),
    ),
    (
        "25-tool-result-without-id",
        {
            "model": MODEL,
            "messages": [
                USER,
                {"role": "assistant", "tool_calls": [call()]},
                {"role": "tool", "content": "18 C"},
            ],
        },
        400,
        refused("Tool call id has to be defined.", "invalid_function_call", "3280", raw_status_code=400),
    ),
    (
        "26-function-name",
        chat(
            tools=[{"type": "function", "function": {"name": "add task!", "parameters": {"type": "object"}}}]
        ),
        400,
        refused(
            "Function name was add task! but must be a-z, A-Z, 0-9, or contain underscores and dashes, "
            "with a maximum length of 64."
        ),
    ),
    (
        "38-unknown-model",
        {"model": "API", "messages": [USER]},
        400,
        refused("Invalid model: API", "invalid_model", "1500", raw_status_code=400),
    ),
    (
        "38-empty-model",
        {"model": "", "messages": [USER]},
        400,
        refused("Invalid model: ", "invalid_model", "1500", raw_status_code=400),
    ),
    (
        "42-openai-embedding-params",
        {"model": "mistral-embed", "input": "hi", "dimensions": 256, "user": "u1"},
        422,
        unprocessable(extra(["body", "dimensions"], 256), extra(["body", "user"], "u1")),
    ),
]


@pytest.mark.parametrize(("case", "body", "status", "expected"), CASES, ids=[c[0] for c in CASES])
def test_mistral_refuses_like_the_live_api(
    http: httpx.Client, case: str, body: dict[str, Any], status: int, expected: dict[str, Any]
) -> None:
    path = "/v1/embeddings" if "input" in body else "/v1/chat/completions"
    response = http.post(path, json=body)
    assert response.status_code == status, response.text
    assert response.json() == expected
    assert response.headers["content-type"] == "application/json"


def tool_with(parameters: dict[str, Any]) -> dict[str, Any]:
    return chat(tools=[{"type": "function", "function": {"name": "f", "parameters": parameters}}])


@pytest.mark.parametrize(
    ("parameters", "position"),
    [
        ({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {}}, "2(3)"),
        ({"type": "object", "$id": "https://example.com/tool.json", "properties": {}}, "3(3)"),
        ({"type": "object", "properties": {"a": {"$id": "#a", "type": "string"}}}, "5(7)"),
    ],
    ids=["$schema", "$id", "nested-$id"],
)
def test_27_schema_keywords_fail_to_compile(
    http: httpx.Client, parameters: dict[str, Any], position: str
) -> None:
    response = http.post("/v1/chat/completions", json=tool_with(parameters))
    assert response.status_code == 400
    assert response.json() == refused(f"Grammar error: at {position}: failed to compile JSON schema")


# The trigger of catalogue 28 as SylphxAI/pdf-reader-mcp#63 sent it.
PDF_READER_PARAMETERS = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "minLength": 1, "description": "Relative path to the local PDF file."},
        "url": {"type": "string", "format": "uri", "description": "URL of the PDF file."},
        "pages": {
            "anyOf": [
                {
                    "type": "array",
                    "items": {"type": "integer", "exclusiveMinimum": True, "minimum": 0},
                    "minItems": 1,
                },
                {"type": "string", "minLength": 1},
            ],
            "description": "Extract text only from specific pages (1-based) or ranges for *this specific "
            "source*. If provided, 'include_full_text' for the entire request is ignored for this source.",
        },
    },
    "additionalProperties": False,
}


def test_28_invalid_tool_schema(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=tool_with(PDF_READER_PARAMETERS))
    assert response.status_code == 400
    # The live text, byte for byte: the whole schema in Python's repr (True, False, and double quotes
    # around a description that contains single quotes).
    expected = (
        "Invalid tool schema: {'type': 'object', 'properties': {'path': {'type': 'string', 'minLength': 1, "
        "'description': 'Relative path to the local PDF file.'}, 'url': {'type': 'string', 'format': 'uri', "
        "'description': 'URL of the PDF file.'}, 'pages': {'anyOf': [{'type': 'array', 'items': {'type': "
        "'integer', 'exclusiveMinimum': True, 'minimum': 0}, 'minItems': 1}, {'type': 'string', 'minLength': "
        "1}], 'description': \"Extract text only from specific pages (1-based) or ranges for *this specific "
        "source*. If provided, 'include_full_text' for the entire request is ignored for this source.\"}}, "
        "'additionalProperties': False} is not valid under any of the given schemas"
    )
    assert response.json() == refused(expected)


def test_28_keywords_draft_7_allows_are_accepted(http: httpx.Client) -> None:
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "minLength": 1},
            "url": {"type": "string", "format": "uri"},
            "pages": {"type": "array", "items": {"type": "integer", "exclusiveMinimum": 0}, "minItems": 1},
        },
        "additionalProperties": False,
    }
    assert http.post("/v1/chat/completions", json=tool_with(parameters)).status_code == 200


def test_41_embeddings_batch_token_limit(http: httpx.Client) -> None:
    response = http.post("/v1/embeddings", json={"model": "mistral-embed", "input": ["word " * 3000] * 6})
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("Too many tokens in batch. Max is 16384 got ")
    assert int(body["message"].rsplit(" ", 1)[1]) > 16384
    assert (body["type"], body["code"], body["param"]) == ("invalid_request_error", None, None)


def test_model_for_the_wrong_endpoint(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={"model": "mistral-embed", "messages": [USER]})
    assert response.status_code == 400
    assert response.json() == refused(
        "Invalid model: mistral-embed", "invalid_model", "1500", raw_status_code=400
    )
    response = http.post("/v1/embeddings", json={"model": "mistral-small-latest", "input": "hi"})
    assert response.json()["type"] == "invalid_model"
    response = http.post("/v1/fim/completions", json={"model": "mistral-small-latest", "prompt": "def"})
    assert response.json() == refused(
        "Invalid model: mistral-small-latest", "invalid_model", "1500", raw_status_code=400
    )


ACCEPTED_TODAY = [
    # Rejections Mistral has since relaxed: the mock must accept them (catalogue 7, 8, 9, 15, 23).
    ("07-n", chat(n=1)),
    ("08-penalties", chat(frequency_penalty=0.0, presence_penalty=0.5)),
    ("09-metadata", chat(metadata={"trace_version": "1.0.0"})),
    ("11-safe_prompt", chat(safe_prompt=True)),
    (
        "15-index-in-tool-call",
        {
            "model": MODEL,
            "messages": [USER, {"role": "assistant", "tool_calls": [{**call(), "index": 0}]}, TOOL_RESULT],
        },
    ),
    (
        "23-content-and-tool-calls",
        {
            "model": MODEL,
            "messages": [
                USER,
                {"role": "assistant", "content": "Let me check", "tool_calls": [call()]},
                TOOL_RESULT,
            ],
        },
    ),
    (
        "29-named-tool-choice",
        chat(tools=[WEATHER_TOOL], tool_choice={"type": "function", "function": {"name": "get_weather"}}),
    ),
    ("30-required", chat(tools=[WEATHER_TOOL], tool_choice="required")),
    ("30-any", chat(tools=[WEATHER_TOOL], tool_choice="any")),
    (
        "19-prefix",
        {"model": MODEL, "messages": [USER, {"role": "assistant", "content": "The weather", "prefix": True}]},
    ),
    (
        "16-bridged",
        {
            "model": MODEL,
            "messages": [*TOOL_TURNS, TOOL_RESULT, {"role": "assistant", "content": "18 C."}, USER],
        },
    ),
    # mistral-small-latest accepted a user turn right after a tool result in 2026-08 recordings.
    ("16-small-accepts", {"model": MODEL, "messages": [*TOOL_TURNS, TOOL_RESULT, USER]}),
]


@pytest.mark.parametrize(("case", "body"), ACCEPTED_TODAY, ids=[c[0] for c in ACCEPTED_TODAY])
def test_mistral_accepts_what_it_accepts_today(http: httpx.Client, case: str, body: dict[str, Any]) -> None:
    response = http.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    if case.startswith(("29", "30")):
        assert response.json()["choices"][0]["finish_reason"] == "tool_calls"
