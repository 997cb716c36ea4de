"""The shim's HTTP edges: routes, bad input, the headers on every answer, the access log, upstream faults.

Everything runs over real sockets: the openai client or httpx → the shim → the mock, or a scripted upstream
that misbehaves exactly as a test asks. No fault may ever come back as a 500 or log a traceback.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable

import httpx2 as httpx
import openai
import pytest
from openai import OpenAI

from testkit.auth import AUTH, KEY
from testkit.errors import assert_mistral_error, assert_openai_error
from testkit.processes import free_port
from testkit.upstream import Received, Upstream, reply
from testkit.wire import CHAT, MISTRAL_ANSWER


def client(url: str) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=30)


def assert_gateway_error(response: httpx.Response, status: int, says: str) -> None:
    """An upstream failure on the pass-through: the body Mistral's gateway sends for it, and the shim's
    headers, with the time spent waiting upstream counted as upstream, not as the shim's overhead."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "request_id"} and says in body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert float(response.headers["x-shim-overhead-ms"]) < 100


# --- routes and bad input


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nope", 404),
        ("POST", "/v2/chat/completions", 404),
        ("GET", "/", 404),
        ("GET", "/v1/chat/completions", 405),
        ("DELETE", "/v1/embeddings", 405),
        ("PUT", "/v1/models", 405),
        ("POST", "/health", 405),
    ],
)
def test_unknown_route_and_wrong_method(
    shim_url: str, no_tracebacks: None, method: str, path: str, status: int
) -> None:
    for headers in (AUTH, {}):  # a routing error is said before a key is asked for
        response = httpx.request(method, f"{shim_url}{path}", headers=headers)
        error = assert_openai_error(response, status)
        assert path in error["message"]


def test_unknown_route_through_the_sdk(shim_client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        shim_client.get("/nowhere", cast_to=object)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b'"a string"',
        b"null",
        b"42",
        b"",
        b'{"model": "mistral-small-latest", "messages": "\xff\xfe"}',
        b"\xef\xbb\xbf\xff",
    ],
    ids=[
        "broken",
        "array",
        "string",
        "null",
        "number",
        "empty",
        "bad-utf8",
        "bom-garbage",
    ],
)
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/embeddings", "/v1/completions"])
def test_bodies_that_are_not_a_json_object_are_400(
    shim_url: str, no_tracebacks: None, body: bytes, path: str
) -> None:
    response = httpx.post(
        f"{shim_url}{path}", content=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert_openai_error(response, 400, "invalid_json")


def test_invalid_body_through_the_sdk(shim_client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="JSON object"):
        shim_client.post("/chat/completions", body=[1], cast_to=object)


def test_body_over_the_limit_is_413(start_shim: Callable[..., str], no_tracebacks: None) -> None:
    shim = start_shim(max_body_mb=0.01)
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 20_000}]}
    for path in ("/v1/chat/completions", "/mistral/v1/chat/completions", "/v1/ocr"):
        response = httpx.post(f"{shim}{path}", json=big, headers=AUTH)
        translated = path == "/v1/chat/completions"  # the pass-through answers in Mistral's shape
        error = (assert_openai_error if translated else assert_mistral_error)(
            response, 413, "request_too_large"
        )
        assert "10485 bytes" in error["message"]
    assert httpx.post(f"{shim}/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200
    with pytest.raises(openai.APIStatusError) as raised:
        client(shim).chat.completions.create(**big)
    assert raised.value.status_code == 413


def test_the_server_keeps_serving_after_bad_input(shim_url: str, shim_client: OpenAI) -> None:
    for body in (b"{", b"\xff", b"[]"):
        httpx.post(f"{shim_url}/v1/chat/completions", content=body, headers=AUTH)
    assert shim_client.chat.completions.create(**CHAT).choices[0].message.content


# --- what every answer carries


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("POST", "/v1/chat/completions", CHAT, {}, 200),
        ("POST", "/v1/chat/completions", {**CHAT, "stream": True}, {}, 200),
        ("POST", "/v1/chat/completions", {**CHAT, "model": "nope"}, {}, 404),
        ("POST", "/v1/chat/completions", CHAT, {"x-mock-fault": "status=429;retry_after=1"}, 429),
        ("POST", "/v1/embeddings", {"model": "mistral-embed", "input": "hi"}, {}, 200),
        ("GET", "/v1/models", None, {}, 200),
        ("GET", "/v1/models/mistral-small-latest", None, {}, 200),
        ("GET", "/mistral/v1/models", None, {}, 200),
        ("POST", "/mistral/v1/chat/completions", {**CHAT, "stream": True}, {}, 200),
        ("POST", "/mistral/v1/chat/completions", {"bad": 1}, {}, 422),
        ("GET", "/health", None, {}, 200),
        ("GET", "/v1/nope", None, {}, 404),
    ],
)
def test_every_answer_has_a_request_id_and_the_shim_overhead(
    shim_url: str, method: str, path: str, body: dict | None, headers: dict, status: int
) -> None:
    response = httpx.request(method, f"{shim_url}{path}", json=body, headers={**AUTH, **headers})
    assert response.status_code == status
    assert response.headers["x-request-id"].startswith("req_")
    assert 0 <= float(response.headers["x-shim-overhead-ms"]) < 10_000


def test_a_client_request_id_is_kept(shim_url: str) -> None:
    response = httpx.get(f"{shim_url}/v1/models", headers={**AUTH, "x-request-id": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"


def test_dropped_parameters_are_named_in_a_header(shim_client: OpenAI) -> None:
    raw = shim_client.chat.completions.with_raw_response.create(**CHAT, user="u-1", store=True)
    assert set(raw.headers["x-shim-dropped-params"].split(",")) == {"user", "store"}


def access_lines(caplog: pytest.LogCaptureFixture, count: int) -> list[dict]:
    """The access log lines, once ``count`` are there: a line is written just after its answer is sent."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "shim.access"]
        if len(lines) >= count or time.monotonic() > deadline:
            assert len(lines) == count, lines
            return lines
        time.sleep(0.01)


def test_one_json_access_log_line_per_request(
    start_shim: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shim.access")
    shim = start_shim()
    openai_client = client(shim)
    raw = openai_client.chat.completions.with_raw_response.create(**CHAT, user="u")
    list(openai_client.chat.completions.create(**CHAT, stream=True))
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(**{**CHAT, "model": "nope"})
    httpx.get(f"{shim}/mistral/v1/models", headers=AUTH)
    lines = access_lines(caplog, 4)
    first = lines[0]
    assert first["request_id"] == raw.headers["x-request-id"]
    assert {k: first[k] for k in ("method", "path", "model", "status", "upstream_status")} == {
        "method": "POST",
        "path": "/v1/chat/completions",
        "model": "mistral-small-latest",
        "status": 200,
        "upstream_status": 200,
    }
    assert first["dropped_params"] == ["user"] and first["repairs"] == []
    assert first["latency_ms"] >= first["overhead_ms"] >= 0
    assert [(line["status"], line["upstream_status"]) for line in lines[1:]] == [
        (200, 200),
        (404, 400),
        (200, 200),
    ]
    assert not any("request_body" in line or "response_body" in line for line in lines)


def test_log_bodies_adds_request_and_response_bodies(
    start_shim: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="shim.access")
    shim = start_shim(log_bodies=True)
    client(shim).chat.completions.create(**CHAT)
    list(client(shim).chat.completions.create(**CHAT, stream=True))
    lines = access_lines(caplog, 2)
    assert lines[0]["request_body"] == CHAT
    assert lines[0]["response_body"]["object"] == "chat.completion"
    assert lines[1]["response_body"].endswith("data: [DONE]\n\n")


# --- upstream faults, non-streamed


def test_connection_refused_is_502(start_shim: Callable[..., str], no_tracebacks: None) -> None:
    shim = start_shim(upstream=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(openai.InternalServerError) as raised:
        client(shim).chat.completions.create(**CHAT)
    assert raised.value.status_code == 502
    assert raised.value.body["code"] == "upstream_unreachable"  # type: ignore[index]
    assert_openai_error(httpx.get(f"{shim}/v1/models", headers=AUTH), 502, "upstream_unreachable")
    assert_gateway_error(httpx.get(f"{shim}/mistral/v1/models", headers=AUTH), 502, "invalid response")


async def hang(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # never answers; returns when the shim gives up and closes


def test_upstream_hang_is_504_within_the_timeout(start_shim: Callable[..., str], no_tracebacks: None) -> None:
    with Upstream(hang) as upstream:
        shim = start_shim(upstream=upstream.url, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(openai.InternalServerError) as raised:
            client(shim).chat.completions.create(**CHAT)
        assert time.monotonic() - started < 10
        assert raised.value.status_code == 504
        assert raised.value.body["code"] == "upstream_timeout"  # type: ignore[index]
        assert_openai_error(httpx.get(f"{shim}/v1/models", headers=AUTH), 504, "upstream_timeout")
        assert_gateway_error(httpx.get(f"{shim}/mistral/v1/models", headers=AUTH), 504, "timing out")


def scripted(status: int, body: bytes, content_type: str = "application/json") -> Callable:
    async def script(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reply(writer, status, body, content_type)

    return script


async def cut_mid_body(
    received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"id":')
    await writer.drain()


@pytest.mark.parametrize(
    ("script", "status", "code"),
    [
        (scripted(200, b"<html>maintenance</html>", "text/html"), 502, "upstream_bad_body"),
        (scripted(200, b"", "application/json"), 502, "upstream_bad_body"),
        (scripted(503, b"<html><body>503 Service Unavailable</body></html>", "text/html"), 502, None),
        (scripted(502, b"<html>Bad Gateway</html>", "text/html"), 502, None),
        (scripted(500, b"", "text/plain"), 502, None),
        (scripted(500, b'{"object":"error","message":"boom","type":"internal_server_error"}'), 500, None),
        (scripted(301, b""), 502, None),
        (cut_mid_body, 502, "upstream_bad_response"),
    ],
    ids=[
        "200-html",
        "200-empty",
        "503-html",
        "502-html",
        "500-empty",
        "500-json",
        "redirect",
        "cut-mid-body",
    ],
)
def test_broken_upstream_answers_are_gateway_errors(
    start_shim: Callable[..., str], no_tracebacks: None, script: Callable, status: int, code: str | None
) -> None:
    with Upstream(script) as upstream:
        shim = start_shim(upstream=upstream.url)
        with pytest.raises(openai.InternalServerError) as raised:
            client(shim).chat.completions.create(**CHAT)
        assert raised.value.status_code == status
        if code:
            assert raised.value.body["code"] == code  # type: ignore[index]
        assert "<html>" not in raised.value.message
        response = httpx.post(
            f"{shim}/v1/embeddings", json={"model": "mistral-embed", "input": "x"}, headers=AUTH
        )
        assert_openai_error(response, status)


def test_429_reaches_the_sdk_with_its_retry_headers(shim_client: OpenAI) -> None:
    fault = {"x-mock-fault": "status=429;retry_after=7"}
    with pytest.raises(openai.RateLimitError) as raised:
        shim_client.chat.completions.create(**CHAT, extra_headers=fault)
    headers = raised.value.response.headers
    assert headers["retry-after"] == "7"
    assert headers["x-ratelimit-limit-tokens"] == headers["x-ratelimit-limit-tokens-minute"]
    assert headers["x-ratelimit-remaining-tokens"] == headers["x-ratelimit-remaining-tokens-minute"]
    assert raised.value.body["type"] == "rate_limit_error"  # type: ignore[index]


def test_no_retries_by_default(start_shim: Callable[..., str]) -> None:
    with Upstream(scripted(503, b'{"message":"busy"}')) as upstream:
        shim = start_shim(upstream=upstream.url)
        with pytest.raises(openai.InternalServerError):
            client(shim).chat.completions.create(**CHAT)
        assert len(upstream.received) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retries_honour_retry_after(start_shim: Callable[..., str], status: int) -> None:
    arrivals: list[float] = []

    async def busy_once(
        received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            writer.write(
                f"HTTP/1.1 {status} Busy\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                "Content-Length: 2\r\nConnection: close\r\n\r\n{}".encode()
            )
            await writer.drain()
        else:
            await reply(writer, 200, json.dumps(MISTRAL_ANSWER).encode())

    with Upstream(busy_once) as upstream:
        shim = start_shim(upstream=upstream.url, retries=2)
        answer = client(shim).chat.completions.create(**CHAT)
        assert answer.choices[0].message.content == "Hello!"
        assert len(upstream.received) == 2
        assert upstream.received[0].body == upstream.received[1].body
        assert arrivals[1] - arrivals[0] >= 0.95


def test_retries_give_up_after_n_and_do_not_retry_other_errors(start_shim: Callable[..., str]) -> None:
    with Upstream(scripted(429, b'{"message":"slow down"}')) as upstream:
        shim = start_shim(upstream=upstream.url, retries=2)
        with pytest.raises(openai.RateLimitError):
            client(shim).chat.completions.create(**CHAT)
        assert len(upstream.received) == 3
    with Upstream(scripted(500, b'{"message":"boom"}')) as upstream:
        shim = start_shim(upstream=upstream.url, retries=2)
        with pytest.raises(openai.InternalServerError):
            client(shim).chat.completions.create(**CHAT)
        assert len(upstream.received) == 1


def test_cors_only_for_configured_origins(start_shim: Callable[..., str], shim_url: str) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    assert httpx.options(f"{shim_url}/v1/chat/completions", headers=preflight).status_code == 405
    assert (
        "access-control-allow-origin"
        not in httpx.get(f"{shim_url}/v1/models", headers={**AUTH, **preflight}).headers
    )
    shim = start_shim(cors_origins=("https://app.example",))
    response = httpx.options(
        f"{shim}/v1/chat/completions",
        headers={**preflight, "Access-Control-Request-Headers": "authorization"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-headers"] == "authorization"
    answer = httpx.get(f"{shim}/v1/models", headers={**AUTH, "Origin": "https://app.example"})
    assert answer.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in answer.headers["access-control-expose-headers"]
    other = httpx.get(f"{shim}/v1/models", headers={**AUTH, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
