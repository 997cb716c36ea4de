"""Every Mistral error shape → OpenAI's ``{"error": {...}}`` with the status the openai SDK maps rightly.

The shapes are the ones of the failure catalogue (section G) and of MISTRAL-CONTRACT §8, as seen on the
wire. Unit tests pin the translation field by field; the last tests send a few of them through a real
shim to the official client, to pin the exception class and the headers a client sees.
"""

import asyncio
import json
from typing import Any

import openai
import pytest
from openai import OpenAI

from shim.translate import errors
from shim.translate.problem import OpenAIError
from testkit.auth import KEY
from testkit.errors import said
from testkit.spec import openai_response_validator
from testkit.wire import MODEL, ROLE, USER, json_answer, sse_answer, stream_chunk


def translate(status: int, body: Any, headers: dict[str, str] | None = None) -> OpenAIError:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return errors.from_mistral(status, data, headers or {})


def fields(error: OpenAIError) -> tuple[Any, ...]:
    return error.status, error.type, error.message, error.param, error.code


EXTRA = {
    "type": "extra_forbidden",
    "loc": ["body", "max_completion_tokens"],
    "msg": "Extra inputs are not permitted",
    "input": 32000,
}
STORE = {
    "type": "extra_forbidden",
    "loc": ["body", "store"],
    "msg": "Extra inputs are not permitted",
    "input": False,
}
LAST_ROLE = "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant"
BOTH = "max_completion_tokens: Extra inputs are not permitted; store: Extra inputs are not permitted"

CASES: dict[str, tuple[int, Any, tuple[Any, ...]]] = {
    # --- 422 validation, the four shapes (catalogue 36)
    "422 envelope": (
        422,
        {
            "object": "error",
            "message": {"detail": [EXTRA, STORE]},
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
        (400, "invalid_request_error", BOTH, "max_completion_tokens", "extra_forbidden"),
    ),
    "422 json-string message": (
        422,
        {
            "object": "error",
            "message": json.dumps({"detail": [EXTRA]}),
            "type": "internal_error_proxy",
            "param": None,
            "code": "1000",
        },
        (
            400,
            "invalid_request_error",
            "max_completion_tokens: Extra inputs are not permitted",
            "max_completion_tokens",
            "extra_forbidden",
        ),
    ),
    "422 bare detail": (
        422,
        {"detail": [EXTRA, STORE]},
        (400, "invalid_request_error", BOTH, "max_completion_tokens", "extra_forbidden"),
    ),
    "422 php-mistral": (
        422,
        {
            "object": "Error",
            "detail": [EXTRA],
            "message": [EXTRA],
            "type": "invalid_request_error",
            "code": 3001,
        },
        (
            400,
            "invalid_request_error",
            "max_completion_tokens: Extra inputs are not permitted",
            "max_completion_tokens",
            "extra_forbidden",
        ),
    ),
    "422 empty detail": (
        422,
        {"detail": []},
        (400, "invalid_request_error", "Mistral rejected the request as invalid.", None, None),
    ),
    # --- 400 semantic refusals (§8)
    "400 invalid model": (
        400,
        {
            "object": "error",
            "message": "Invalid model: mistral-medium-3.5",
            "type": "invalid_model",
            "param": None,
            "code": "1500",
            "raw_status_code": 400,
        },
        (
            404,
            "invalid_request_error",
            "The model `mistral-medium-3.5` does not exist or you do not have access to it "
            "(Mistral: Invalid model: mistral-medium-3.5).",
            "model",
            "model_not_found",
        ),
    ),
    "400 invalid model, 2025": (
        400,
        {
            "object": "error",
            "message": "Invalid model: ",
            "type": "invalid_model",
            "param": None,
            "code": "1500",
        },
        (
            404,
            "invalid_request_error",
            "The model `` does not exist or you do not have access to it (Mistral: Invalid model:).",
            "model",
            "model_not_found",
        ),
    ),
    "404 invalid model on retrieve": (
        404,
        {
            "object": "error",
            "message": "Invalid model: nope",
            "type": "invalid_model",
            "param": None,
            "code": "1500",
            "raw_status_code": 404,
        },
        (
            404,
            "invalid_request_error",
            "The model `nope` does not exist or you do not have access to it (Mistral: Invalid model: nope).",
            "model",
            "model_not_found",
        ),
    ),
    "400 tool call id": (
        400,
        {
            "object": "error",
            "message": "Tool call id was turn1_0 but must be a-z, A-Z, 0-9, with a length of 9.",
            "type": "invalid_function_call",
            "param": None,
            "code": "3280",
            "raw_status_code": 400,
        },
        (
            400,
            "invalid_request_error",
            "Tool call id was turn1_0 but must be a-z, A-Z, 0-9, with a length of 9.",
            None,
            "invalid_function_call",
        ),
    ),
    "400 message order": (
        400,
        {
            "object": "error",
            "message": "Unexpected role 'tool' after role 'user'",
            "type": "invalid_request_message_order",
            "param": None,
            "code": "3230",
        },
        (
            400,
            "invalid_request_error",
            "Unexpected role 'tool' after role 'user'",
            None,
            "invalid_request_message_order",
        ),
    ),
    "400 last role": (
        400,
        {
            "object": "error",
            "message": LAST_ROLE,
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
        (
            400,
            "invalid_request_error",
            LAST_ROLE,
            None,
            None,
        ),
    ),
    "400 empty assistant": (
        400,
        {
            "object": "error",
            "message": "Assistant message must have either content or tool_calls, but not none.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
        (
            400,
            "invalid_request_error",
            "Assistant message must have either content or tool_calls, but not none.",
            None,
            None,
        ),
    ),
    "400 batch tokens": (
        400,
        {
            "object": "error",
            "message": "Too many tokens in batch. Max is 16384 got 17555",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
        (400, "invalid_request_error", "Too many tokens in batch. Max is 16384 got 17555", None, None),
    ),
    "400 ocr without param or code": (
        400,
        {"object": "error", "message": "Failed to fetch document", "type": "invalid_request_error"},
        (400, "invalid_request_error", "Failed to fetch document", None, None),
    ),
    # --- the gateway's and FastAPI's own bodies
    "401 kong": (
        401,
        {"message": "Unauthorized", "request_id": "c61f2f15feca71626a990e3740f99245"},
        (401, "authentication_error", "Unauthorized", None, "invalid_api_key"),
    ),
    "401 fastapi": (
        401,
        {"detail": "Unauthorized"},
        (401, "authentication_error", "Unauthorized", None, "invalid_api_key"),
    ),
    "404 kong route": (
        404,
        {"message": "no Route matched with those values", "request_id": "4e66"},
        (404, "invalid_request_error", "no Route matched with those values", None, None),
    ),
    "404 fastapi": (404, {"detail": "Not Found"}, (404, "invalid_request_error", "Not Found", None, None)),
    # --- rate limits and capacity (catalogue 37)
    "429 gateway": (
        429,
        {"message": "Requests rate limit exceeded"},
        (429, "rate_limit_error", "Requests rate limit exceeded", None, "rate_limit_exceeded"),
    ),
    "429 envelope": (
        429,
        {
            "object": "error",
            "message": "Rate limit exceeded",
            "type": "rate_limited",
            "param": None,
            "code": "1300",
            "raw_status_code": 429,
        },
        (429, "rate_limit_error", "Rate limit exceeded", None, "rate_limit_exceeded"),
    ),
    "429 capacity": (
        429,
        {
            "object": "error",
            "message": "Service tier capacity exceeded for this model.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
        (
            429,
            "rate_limit_error",
            "Service tier capacity exceeded for this model.",
            None,
            "rate_limit_exceeded",
        ),
    ),
    "503 capacity": (
        503,
        {
            "object": "error",
            "message": "Service tier capacity exceeded for this model.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
        (503, "server_error", "Service tier capacity exceeded for this model.", None, None),
    ),
    # --- 5xx (catalogue 39)
    "500 service unavailable": (
        500,
        {"code": "3600", "message": "Service unavailable.", "type": "internal_server_error"},
        (500, "server_error", "Service unavailable.", None, "3600"),
    ),
    "500 fastapi": (
        500,
        {"detail": "Internal Server Error"},
        (500, "server_error", "Internal Server Error", None, None),
    ),
    "502 kong": (
        502,
        {"message": "An invalid response was received from the upstream server", "request_id": "x"},
        (502, "server_error", "An invalid response was received from the upstream server", None, None),
    ),
    "500 envelope without message": (
        500,
        {"object": "error", "message": "", "type": "internal_server_error", "code": "1000"},
        (
            500,
            "server_error",
            'Mistral answered HTTP 500: {"object": "error", "message": "", '
            '"type": "internal_server_error", "code": "1000"}',
            None,
            "1000",
        ),
    ),
    # --- bodies that are not JSON
    "503 html": (
        503,
        b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
        (
            502,
            "server_error",
            "Upstream returned HTTP 503 with a non-JSON body",
            None,
            "upstream_bad_response",
        ),
    ),
    "502 empty": (
        502,
        b"",
        (
            502,
            "server_error",
            "Upstream returned HTTP 502 with a non-JSON body",
            None,
            "upstream_bad_response",
        ),
    ),
    "500 plain text": (
        500,
        b"upstream connect error",
        (
            502,
            "server_error",
            "Upstream returned HTTP 500 with a non-JSON body: upstream connect error",
            None,
            "upstream_bad_response",
        ),
    ),
    "413 plain text": (
        413,
        b"Request Entity Too Large",
        (
            413,
            "invalid_request_error",
            "Upstream returned HTTP 413 with a non-JSON body: Request Entity Too Large",
            None,
            None,
        ),
    ),
    "400 not utf-8": (
        400,
        b"\xff\xfe\x00",
        (400, "invalid_request_error", "Upstream returned HTTP 400 with a non-JSON body", None, None),
    ),
    "json that is not an object": (
        400,
        b"[1, 2]",
        (400, "invalid_request_error", "Upstream returned HTTP 400 with a non-JSON body", None, None),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_mistral_error_becomes_openais(case: str) -> None:
    status, body, expected = CASES[case]
    assert fields(translate(status, body)) == expected


@pytest.mark.parametrize("case", CASES)
def test_every_translated_error_body_is_openais_error_response(case: str) -> None:
    status, body, _ = CASES[case]
    assert openai_response_validator("ErrorResponse")(translate(status, body).body()) == []


@pytest.mark.parametrize(
    ("loc", "param"),
    [
        (["body", "max_completion_tokens"], "max_completion_tokens"),
        (["body", "stream_options", "include_usage"], "stream_options.include_usage"),
        (["body", "messages", 0, "user", "name"], "messages[0].name"),
        (["body", "messages", 31, "assistant", "reasoning_content"], "messages[31].reasoning_content"),
        (["body", "messages", 6, "assistant", "tool_calls", 0, "name"], "messages[6].tool_calls[0].name"),
        (["body", "messages", 0, "system", "content", "str"], "messages[0].content"),
        (
            [
                "body",
                "messages",
                0,
                "user",
                "content",
                "list[tagged-union[TextChunk,ImageURLChunk]]",
                0,
                "text",
                "cache_control",
            ],
            "messages[0].content[0].cache_control",
        ),
        (["body", "tools", 0, "function", "function", "parameters"], "tools[0].function.parameters"),
        (["body", "tool_choice", "ToolChoice", "function"], "tool_choice.function"),
        (["body", "temperature"], "temperature"),
        (["body"], ""),
    ],
)
def test_param_is_read_from_pydantics_loc(loc: list[Any], param: str) -> None:
    assert errors.detail_param(loc) == param


def test_the_param_of_a_real_mock_422_is_the_openai_path(raw: Any) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {}}]}],
    }
    refused = raw.post("/v1/chat/completions", json=body)
    error = errors.from_mistral(refused.status_code, refused.content, refused.headers)
    assert error.param == "messages[0].content[0].cache_control"
    assert error.message == "messages[0].content[0].cache_control: Extra inputs are not permitted"


def test_rate_limit_headers_are_kept_and_given_openais_names() -> None:
    mistral = {
        "Retry-After": "3",
        "x-ratelimit-limit-req-minute": "60",
        "x-ratelimit-remaining-req-minute": "59",
        "X-RateLimit-Limit-Tokens-Minute": "500000",
        "x-ratelimit-remaining-tokens-minute": "499000",
        "x-ratelimit-limit-tokens-month": "1000000000",
        "x-ratelimit-tokens-query-cost": "1000",
        "content-type": "application/json",
    }
    assert errors.openai_rate_limit_headers(mistral) == {
        "Retry-After": "3",
        "x-ratelimit-limit-req-minute": "60",
        "x-ratelimit-remaining-req-minute": "59",
        "X-RateLimit-Limit-Tokens-Minute": "500000",
        "x-ratelimit-remaining-tokens-minute": "499000",
        "x-ratelimit-limit-tokens-month": "1000000000",
        "x-ratelimit-tokens-query-cost": "1000",
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-limit-tokens": "500000",
        "x-ratelimit-remaining-tokens": "499000",
    }


def test_a_ten_second_request_window_also_maps_to_openais_request_names() -> None:
    mapped = errors.openai_rate_limit_headers(
        {"x-ratelimit-limit-req-10-second": "5", "x-ratelimit-remaining-req-10-second": "0"}
    )
    assert (mapped["x-ratelimit-limit-requests"], mapped["x-ratelimit-remaining-requests"]) == ("5", "0")


def test_no_rate_limit_headers_means_none_added() -> None:
    assert (
        errors.openai_rate_limit_headers({"content-type": "application/json", "x-kong-request-id": "1"}) == {}
    )


def test_an_error_carries_the_rate_limit_headers() -> None:
    error = translate(
        429,
        {"message": "Requests rate limit exceeded"},
        {"Retry-After": "2", "x-ratelimit-remaining-req-minute": "0"},
    )
    assert error.headers == {
        "Retry-After": "2",
        "x-ratelimit-remaining-req-minute": "0",
        "x-ratelimit-remaining-requests": "0",
    }


def test_an_unreachable_or_silent_upstream_is_a_gateway_error() -> None:
    assert fields(errors.upstream_unreachable("ClientConnectorError: refused")) == (
        502,
        "server_error",
        "Could not reach the Mistral API: ClientConnectorError: refused",
        None,
        "upstream_unreachable",
    )
    assert fields(errors.upstream_timeout(600)) == (
        504,
        "server_error",
        "The Mistral API did not answer within 600 seconds.",
        None,
        "upstream_timeout",
    )


# --- through a real shim, with the official client ----------------------------------------------------------

SDK_CASES = [
    ("422 envelope", openai.BadRequestError),
    ("400 invalid model", openai.NotFoundError),
    ("401 kong", openai.AuthenticationError),
    ("401 fastapi", openai.AuthenticationError),
    ("404 fastapi", openai.NotFoundError),
    ("429 gateway", openai.RateLimitError),
    ("503 capacity", openai.InternalServerError),
    ("500 service unavailable", openai.InternalServerError),
    ("503 html", openai.InternalServerError),
]


@pytest.mark.parametrize(("case", "exception"), SDK_CASES)
def test_the_sdk_raises_the_right_exception_with_the_readable_message(
    via: Any, case: str, exception: type
) -> None:
    status, body, expected = CASES[case]
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    client, _ = via(json_answer(status, data))
    with pytest.raises(exception) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert (caught.value.status_code, said(caught.value), caught.value.code) == (
        expected[0],
        expected[2],
        expected[4],
    )


def test_a_bad_key_is_an_authentication_error(start_mock: Any, start_shim: Any) -> None:
    mock = start_mock(api_keys=frozenset({"the-right-key"}))
    client = OpenAI(base_url=f"{start_shim(upstream=mock)}/v1", api_key="the-wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert said(caught.value) == "Unauthorized"


def test_an_unreachable_upstream_is_a_502(start_shim: Any) -> None:
    client = OpenAI(base_url=f"{start_shim(upstream='http://127.0.0.1:9')}/v1", api_key=KEY, max_retries=0)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert (caught.value.status_code, caught.value.code) == (502, "upstream_unreachable")
    assert said(caught.value).startswith("Could not reach the Mistral API")


def test_an_upstream_that_answers_too_late_is_a_504(via: Any) -> None:
    async def late() -> Any:
        await asyncio.sleep(2)  # far past the shim's 0.3 s read timeout; short so the server stops soon
        return json_answer(200, {})

    client, _ = via(lambda body: late(), timeout=0.3)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert (caught.value.status_code, caught.value.code) == (504, "upstream_timeout")
    assert said(caught.value) == "The Mistral API did not answer within 0.3 seconds."


def test_a_stream_cut_before_done_is_an_error_not_a_short_answer(via: Any) -> None:
    client, _ = via(sse_answer([ROLE, stream_chunk({"content": "Half an ans"})], done=False))
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(model=MODEL, messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Half an ans"
    assert "ended before it was complete" in caught.value.message
