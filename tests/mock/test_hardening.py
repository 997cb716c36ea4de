"""Bad input to the mock: whatever arrives, a clear 4xx in Mistral's own error format, and it keeps serving.

Field by field (every field of every request model, from the contract itself, so a new field is covered
the day it is added), body by body (invalid JSON, non-objects, 100,000 levels of nesting, invalid UTF-8, a
lone surrogate, wrong content types, huge strings and numbers), size (413 past ``--max-body-mb``, with or
without a Content-Length), routes and methods. After each, the same server answers a good request.
"""

import gzip
import json
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
from pydantic import BaseModel

from mistral_wire.contract.errors import dumps
from mistral_wire.contract.requests import (
    ChatCompletionRequest,
    EmbeddingRequest,
    FIMCompletionRequest,
    OCRRequest,
)
from mockserver.cli import _parser, settings_from_args
from testkit.auth import AUTH
from testkit.bodies import BODIES, PARSE
from testkit.errors import mistral_error, strict_json
from testkit.rawhttp import raw_request

GOOD: dict[str, tuple[type[BaseModel], dict[str, Any]]] = {
    "/v1/chat/completions": (
        ChatCompletionRequest,
        {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]},
    ),
    "/v1/fim/completions": (FIMCompletionRequest, {"model": "codestral-latest", "prompt": "def f(x):"}),
    "/v1/embeddings": (EmbeddingRequest, {"model": "mistral-embed", "input": "hi"}),
    "/v1/ocr": (
        OCRRequest,
        {
            "model": "mistral-ocr-latest",
            "document": {"type": "document_url", "document_url": "https://example.com/a.pdf"},
        },
    ),
}
SHORT = {
    "/v1/chat/completions": "chat",
    "/v1/fim/completions": "fim",
    "/v1/embeddings": "embeddings",
    "/v1/ocr": "ocr",
}
FIELDS = [(path, name) for path, (model, _) in GOOD.items() for name in model.model_fields]
# One value of each JSON type, and numbers no field accepts everywhere.
WRONG = [{"junk": 1}, [[1]], "x", -1, 1.5, True, None]


def answer(client: httpx.Client, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    """POST and return the status and the body: parsed and format-checked when it is an error."""
    response = client.post(path, json=body, **kwargs) if body is not None else client.post(path, **kwargs)
    assert response.status_code < 500, (path, response.status_code, response.text[:300])
    if response.status_code >= 400:
        return response.status_code, mistral_error(
            response.status_code, response.headers.get("content-type", ""), response.content
        )
    return response.status_code, None


def still_serving(client: httpx.Client) -> None:
    path, (_, good) = "/v1/chat/completions", GOOD["/v1/chat/completions"]
    assert client.post(path, json=good).status_code == 200


@pytest.mark.parametrize(("path", "field"), FIELDS, ids=[f"{SHORT[p]}.{f}" for p, f in FIELDS])
def test_every_field_refuses_wrong_types_with_a_422_that_names_it(
    http: httpx.Client, path: str, field: str
) -> None:
    _, good = GOOD[path]
    refused_here = []
    for value in WRONG:
        status, body = answer(http, path, {**good, field: value})
        if status == 422:
            details = body["message"]["detail"]
            refused_here += [value for d in details if d["loc"][:2] == ["body", field]]
    assert refused_here, f"no wrong type was refused at {field}"
    still_serving(http)


@pytest.mark.parametrize("path", list(GOOD), ids=list(SHORT.values()))
@pytest.mark.parametrize(
    ("name", "content", "content_type", "status", "error"), BODIES, ids=[case[0] for case in BODIES]
)
def test_bad_bodies_get_a_clear_4xx_on_every_endpoint(
    http: httpx.Client,
    path: str,
    name: str,
    content: bytes,
    content_type: str | None,
    status: int,
    error: str,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {"Content-Type": ""}
    got, body = answer(http, path, content=content, headers=headers)
    assert got == status, body
    if status == 422:
        assert body["message"]["detail"][0]["type"] == error
    else:
        assert body["message"] == error
    still_serving(http)


def test_a_lone_surrogate_where_an_error_would_echo_it_is_a_400_not_a_500(http: httpx.Client) -> None:
    # "Invalid model: ..." echoes the model: before parsing refused lone surrogates, rendering that echo
    # failed and aiohttp answered a plain-text 500.
    status, body = answer(
        http, "/v1/chat/completions", content=b'{"model": "\\udfff", "messages": []}', headers=AUTH
    )
    assert status == 400 and body["message"] == PARSE
    # And should one reach an error body anyway, it is written as a JSON escape, not a failure.
    assert json.loads(dumps({"message": "Invalid model: \udfff"})) == {"message": "Invalid model: \udfff"}


def test_a_missing_content_type_is_read_as_json_like_fastapi(http: httpx.Client) -> None:
    path, (_, good) = "/v1/embeddings", GOOD["/v1/embeddings"]
    response = http.post(path, content=json.dumps(good).encode(), headers={"Content-Type": ""})
    assert response.status_code == 200


def test_huge_strings_are_answered_or_refused_never_a_500(http: httpx.Client) -> None:
    ten_mb = "x" * 10_000_000
    status, body = answer(http, "/v1/chat/completions", {"model": ten_mb, "messages": []})
    assert status == 400 and body["type"] == "invalid_model"
    chat = GOOD["/v1/chat/completions"][1]
    assert answer(http, "/v1/chat/completions", {**chat, "prompt_cache_key": ten_mb})[0] == 200
    long_prompt = {**chat, "messages": [{"role": "user", "content": "word " * 1_000_000}], "max_tokens": 4}
    assert answer(http, "/v1/chat/completions", long_prompt)[0] == 200
    status, body = answer(http, "/v1/embeddings", {"model": "mistral-embed", "input": ["word " * 20_000]})
    assert status == 400 and body["message"].startswith("Too many tokens in batch.")
    still_serving(http)


def test_absurd_json_schemas_get_an_answer_not_a_hang(http: httpx.Client) -> None:
    """Structured outputs and tool arguments are generated from the client's schema: broken or enormous
    keywords are ignored or capped, never a 500, never a loop that blocks the server, and what is generated
    is standard JSON (no Infinity from bounds whose span overflows)."""
    chat = GOOD["/v1/chat/completions"][1]
    schemas = [
        {"type": "array", "minItems": 10**9, "items": {"type": "array", "minItems": 10**9}},
        {"type": "string", "minLength": 10**12, "pattern": "(a{1000}){1000}"},
        {"type": "object", "minProperties": 10**9},
        {"type": "object", "properties": [], "required": {"a": 1}, "enum": {"x": 1}},
        {"type": "integer", "minimum": "3", "maximum": 10**400, "multipleOf": "x"},
        {"type": "number", "minimum": 1e308, "multipleOf": 1e-300},
        {
            "type": "object",
            "properties": {"x": {"type": "number", "minimum": -1e308, "maximum": 1e308}},
            "required": ["x"],
        },
        {"type": "string", "pattern": "(["},
        {"type": "bounds"},
        {"allOf": [{"$ref": "#"}]},
        {"anyOf": [True, 5, "x"]},
    ]
    for schema in schemas:
        structured = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
        response = http.post("/v1/chat/completions", json={**chat, "response_format": structured})
        assert response.status_code == 200, schema
        strict_json(response.json()["choices"][0]["message"]["content"].encode())
        tools = [{"type": "function", "function": {"name": "f", "parameters": schema}}]
        status, _ = answer(http, "/v1/chat/completions", {**chat, "tools": tools, "tool_choice": "any"})
        if status == 200:  # a schema the tool validator accepts: its arguments are generated
            response = http.post("/v1/chat/completions", json={**chat, "tools": tools, "tool_choice": "any"})
            for call in response.json()["choices"][0]["message"]["tool_calls"]:
                strict_json(call["function"]["arguments"].encode())
    still_serving(http)


def test_the_body_limit_is_a_flag_and_answers_413(start_mock: Callable[..., str]) -> None:
    config = settings_from_args(_parser().parse_args(["serve", "--max-body-mb", "0.25"]))
    assert config.max_body_bytes == 262_144
    url = start_mock(max_body_mb=0.25)
    big = {**GOOD["/v1/chat/completions"][1], "prompt_cache_key": "x" * 300_000}
    with httpx.Client(base_url=url, headers=AUTH) as client:
        status, body = answer(client, "/v1/chat/completions", big)
        assert status == 413
        assert body["message"].startswith("Request body of ")
        assert body["message"].endswith(" bytes exceeds the limit of 262144 bytes")

        def chunks() -> Any:  # no Content-Length: the limit applies to what arrives
            yield json.dumps(big).encode()

        status, body = answer(
            client, "/v1/embeddings", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert status == 413 and body["message"] == "Request body exceeds the limit of 262144 bytes"
        still_serving(client)


def test_the_body_limit_holds_in_replay_mode(start_mock: Callable[..., str], tmp_path: Any) -> None:
    url = start_mock(mode="replay", recordings=tmp_path, max_body_mb=0.01)
    response = httpx.post(f"{url}/v1/embeddings", content=b"x" * 20_000, headers=AUTH)
    assert response.status_code == 413
    assert (
        mistral_error(413, response.headers["content-type"], response.content)["type"]
        == "invalid_request_error"
    )
    missed = httpx.post(f"{url}/v1/embeddings", json={"model": "mistral-embed", "input": "hi"}, headers=AUTH)
    assert missed.status_code == 404 and missed.json()["type"] == "recording_not_found"


ROUTES = [
    ("GET", "/v2/chat/completions", 404),
    ("POST", "/v1/chat/completions/extra", 404),
    ("POST", "/v1/chat", 404),
    ("GET", "/", 404),
    ("POST", "/v1/../v1/chat/completions", 404),
    ("GET", "/v1/chat/completions", 405),
    ("PUT", "/v1/embeddings", 405),
    ("DELETE", "/v1/models/mistral-small-latest", 405),
    ("PATCH", "/v1/ocr", 405),
    ("POST", "/v1/models", 405),
]


@pytest.mark.parametrize(("method", "path", "status"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_unknown_routes_and_wrong_methods(mock_url: str, method: str, path: str, status: int) -> None:
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\n"
    got, raw = raw_request(mock_url, (head + "Connection: close\r\n\r\n").encode(), b"{}")
    assert got == status
    body = mistral_error(got, "application/json", raw)
    assert (
        body == {"detail": "Method Not Allowed"} if status == 405 else body["message"].startswith("no Route")
    )
    with httpx.Client(base_url=mock_url, headers=AUTH) as client:
        still_serving(client)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v1/models/" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"k" * 20_000 + b"\r\n\r\n",
        b"NOT-HTTP\r\n\r\n",
    ],
    ids=["long-request-line", "long-header", "not-http"],
)
def test_requests_http_cannot_parse_get_a_400_and_the_server_keeps_serving(
    mock_url: str, head: bytes
) -> None:
    """Below the API: aiohttp refuses these before any route runs (plain text, as the live gateway's own
    parser would answer), and closes that connection only."""
    status, _ = raw_request(mock_url, head)
    assert status == 400
    with httpx.Client(base_url=mock_url, headers=AUTH) as client:
        still_serving(client)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", "bogus"])
def test_a_content_encoding_is_not_undone_as_mistral_does_not(http: httpx.Client, encoding: str) -> None:
    """The body is read as sent: compressed bytes do not parse (400), plain JSON labelled compressed is
    JSON; and a body nobody reads (a 401, a 404) costs no later request on the same connection anything."""
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    compressed = gzip.compress(b'{"model": "mistral-embed", "input": "hi"}')
    status, body = answer(http, "/v1/embeddings", content=compressed, headers=headers)
    assert status == 400 and body["message"] == PARSE
    status, body = answer(http, "/v1/embeddings", content=b'{"model": "mistral-embed"}', headers=headers)
    assert status == 422 and body["message"]["detail"][0]["loc"] == ["body", "input"]
    for path in ("/v1/nope", "/health", "/v1/models"):
        assert http.post(path, content=b"\x00junk" * 1000, headers=headers).status_code < 500
        still_serving(http)
