"""The mock's HTTP edges: routes, auth, bad input, headers, framing and determinism, over real sockets."""

import json
import re
from collections.abc import Callable

import httpx2 as httpx
import pytest

from mockserver.cli import _parser, settings_from_args
from testkit.auth import AUTH

CHAT = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Say hello."}]}
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_health_needs_no_key(mock_url: str) -> None:
    response = httpx.get(f"{mock_url}/health")
    assert response.status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Token abc"])
def test_missing_or_malformed_key_is_the_gateway_401(mock_url: str, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = httpx.post(f"{mock_url}/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["www-authenticate"] == "Key"
    body = response.json()
    assert body["message"] == "Unauthorized"
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])
    # Kong pretty-prints its own bodies.
    assert response.text.startswith('{\n  "message":"Unauthorized",\n  "request_id":"')


def test_configured_keys_restrict_access(start_mock: Callable[..., str]) -> None:
    url = start_mock(api_keys=frozenset({"good"}))
    assert (
        httpx.post(
            f"{url}/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer bad"}
        ).status_code
        == 401
    )
    assert (
        httpx.post(
            f"{url}/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer good"}
        ).status_code
        == 200
    )


def test_keys_come_from_flags_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same precedence as every setting of both servers: the flags, when given, win whole."""
    monkeypatch.setenv("MOCK_API_KEYS", "env-one, env-two")
    config = settings_from_args(_parser().parse_args(["serve"]))
    assert config.api_keys == {"env-one", "env-two"}
    config = settings_from_args(_parser().parse_args(["serve", "--api-key", "flag", "--api-key", "other"]))
    assert config.api_keys == {"flag", "other"}
    assert config.host == "127.0.0.1"


def test_unknown_route_is_404_before_auth(mock_url: str) -> None:
    response = httpx.get(f"{mock_url}/v1/chat/models")
    assert response.status_code == 404
    body = response.json()
    assert body["message"] == "no Route matched with those values"
    assert set(body) == {"message", "request_id"}


def test_wrong_method_is_405(http: httpx.Client) -> None:
    response = http.get("/v1/chat/completions")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error_type"),
    [
        (b'{"model": "x", ', "application/json", 422, "json_invalid"),
        (b"[1, 2, 3]", "application/json", 422, "model_type"),
        (b'"a string"', "application/json", 422, "model_type"),
        (b"", "application/json", 422, "missing"),
        (json.dumps(CHAT).encode(), "text/plain", 422, "model_type"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, None),
        (b'{"model": "\xff\xfe"}', "application/json", 400, None),
    ],
    ids=["invalid-json", "array", "string", "empty", "text-plain", "deep-nesting", "invalid-utf8"],
)
def test_bad_bodies_get_a_clear_4xx_and_the_server_keeps_serving(
    http: httpx.Client, content: bytes, content_type: str, status: int, error_type: str | None
) -> None:
    response = http.post("/v1/chat/completions", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    body = response.json()
    assert body["object"] == "error"
    if error_type:
        assert body["message"]["detail"][0]["type"] == error_type
        assert body["message"]["detail"][0]["loc"][0] == "body"
    else:
        assert body["message"] == "There was an error parsing the body"
    assert http.post("/v1/chat/completions", json=CHAT).status_code == 200


def test_invalid_json_names_the_position(http: httpx.Client) -> None:
    response = http.post(
        "/v1/chat/completions", content=b'{"model": }', headers={"Content-Type": "application/json"}
    )
    detail = response.json()["message"]["detail"][0]
    assert detail == {
        "type": "json_invalid",
        "loc": ["body", 10],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": "Expecting value"},
    }


def test_oversized_body_is_413(start_mock: Callable[..., str]) -> None:
    url = start_mock(max_body_mb=0.01)
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 20_000}]}
    response = httpx.post(f"{url}/v1/chat/completions", json=big, headers=AUTH)
    assert response.status_code == 413
    assert "exceeds the limit of 10485 bytes" in response.json()["message"]
    assert httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200


def test_bare_validation_shape_on_request(start_mock: Callable[..., str]) -> None:
    url = start_mock(validation_shape="bare")
    response = httpx.post(f"{url}/v1/chat/completions", json={**CHAT, "seed": 1}, headers=AUTH)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["body", "seed"],
                "msg": "Extra inputs are not permitted",
                "input": 1,
            }
        ]
    }


def test_headers_as_the_live_api_sends_them(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=CHAT)
    headers = response.headers
    assert headers["content-type"] == "application/json"
    assert UUID7.match(headers["mistral-correlation-id"])
    assert headers["x-kong-request-id"] == headers["mistral-correlation-id"]
    assert int(headers["x-ratelimit-limit-tokens-minute"]) >= int(
        headers["x-ratelimit-remaining-tokens-minute"]
    )
    assert int(headers["x-ratelimit-tokens-query-cost"]) == response.json()["usage"]["total_tokens"]
    again = http.post("/v1/chat/completions", json=CHAT).headers
    assert again["mistral-correlation-id"] != headers["mistral-correlation-id"]


def test_same_request_same_answer_except_created(http: httpx.Client) -> None:
    first = http.post("/v1/chat/completions", json={**CHAT, "random_seed": 7}).json()
    second = http.post(
        "/v1/chat/completions", content=json.dumps({"random_seed": 7, **CHAT}, indent=2)
    ).json()
    first.pop("created"), second.pop("created")
    assert first == second
    other = http.post("/v1/chat/completions", json={**CHAT, "random_seed": 8}).json()
    assert other["choices"][0]["message"]["content"] != first["choices"][0]["message"]["content"]
    assert re.fullmatch(r"[0-9a-f]{32}", first["id"])


def test_stream_framing_is_mistral_exact(http: httpx.Client) -> None:
    with http.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert "content-length" not in response.headers
        raw = b"".join(response.iter_bytes())
    assert raw.endswith(b"data: [DONE]\n\n")
    blocks = raw.split(b"\n\n")[:-1]
    assert all(block.startswith(b"data: ") and b"\n" not in block for block in blocks)
    events = [json.loads(block[6:]) for block in blocks[:-1]]
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "p" not in events[0]
    assert all(e["choices"][0]["finish_reason"] is None and "usage" not in e for e in events[:-1])
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert list(events[-1])[-1] == "usage"
    assert len({e["id"] for e in events}) == 1 and len({e["created"] for e in events}) == 1
    # Compact JSON, raw UTF-8: the bytes are what json.dumps(separators=(",", ":")) writes.
    assert blocks[1][6:] == json.dumps(events[1], separators=(",", ":"), ensure_ascii=False).encode()


def test_stream_and_non_stream_say_the_same(http: httpx.Client) -> None:
    whole = http.post("/v1/chat/completions", json=CHAT).json()
    with http.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        raw = b"".join(response.iter_bytes())
    events = [json.loads(b[6:]) for b in raw.split(b"\n\n")[:-2]]
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert text == whole["choices"][0]["message"]["content"]
    assert events[-1]["usage"] == whole["usage"]
    assert len(events) - 1 == whole["usage"]["completion_tokens"]


def test_padding_adds_the_p_field(start_mock: Callable[..., str]) -> None:
    url = start_mock(padding=True)
    with httpx.stream(
        "POST", f"{url}/v1/chat/completions", json={**CHAT, "stream": True}, headers=AUTH
    ) as response:
        raw = b"".join(response.iter_bytes())
    events = [json.loads(b[6:]) for b in raw.split(b"\n\n")[:-2]]
    assert "p" not in events[0]
    for event in events[1:]:
        assert "abcdefghijklmnopqrstuvwxyz0123456789".startswith(event["p"]) and event["p"]
    assert list(events[-1])[-2:] == ["usage", "p"]
