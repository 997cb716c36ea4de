"""``with_raw_response`` and ``with_streaming_response``: the headers teams log, trace and throttle on.

The openai SDK reads the request id from ``x-request-id`` (``raw.request_id``, ``error.request_id``), and
rate-limit dashboards read ``x-ratelimit-{limit,remaining}-{requests,tokens}``. Mistral names these
differently (``mistral-correlation-id``; ``x-ratelimit-*-tokens-minute``, ``-req-minute``: MISTRAL-CONTRACT
§8). The shim promises (README, "Headers") ``x-request-id`` on every answer (echoing the client's own when
it sends one), ``x-shim-overhead-ms``, and Mistral's rate-limit headers kept and also given OpenAI's names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import httpx2 as httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from contract_tests.conftest import Breaks

MODEL = "mistral-small-latest"
HELLO = [{"role": "user", "content": "Say hello."}]
SHIM_REQUEST_ID = re.compile(r"^req_[0-9a-f]{24}$")
NO_REQUEST_ID = "no x-request-id: request_id is None (Mistral sends mistral-correlation-id)"
NO_OPENAI_NAMES = "rate limits only under Mistral's names (x-ratelimit-*-tokens-minute)"
# Mistral's header → the OpenAI name the shim adds with the same value.
OPENAI_NAMES = {
    "x-ratelimit-limit-tokens-minute": "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens-minute": "x-ratelimit-remaining-tokens",
    "x-ratelimit-limit-req-minute": "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-req-minute": "x-ratelimit-remaining-requests",
}


def _assert_request_id(request_id: str | None, headers: httpx.Headers, breaks: Breaks) -> None:
    """The shim's id, as the SDK reads it; without the shim, only Mistral's correlation id."""
    if breaks.expected:
        assert request_id is None
        assert "x-request-id" not in headers
        assert headers["mistral-correlation-id"]
        breaks.note(NO_REQUEST_ID)
        return
    assert request_id == headers["x-request-id"]
    assert SHIM_REQUEST_ID.match(request_id), request_id
    assert float(headers["x-shim-overhead-ms"]) >= 0


def _assert_rate_limits(headers: Mapping[str, str], breaks: Breaks) -> None:
    """Mistral's token headers are there either way; behind the shim, under OpenAI's names as well."""
    assert int(headers["x-ratelimit-limit-tokens-minute"]) > 0
    assert int(headers["x-ratelimit-remaining-tokens-minute"]) >= 0
    present = {mistral: openai_name for mistral, openai_name in OPENAI_NAMES.items() if mistral in headers}
    if breaks.expected:
        assert not any(openai_name in headers for openai_name in OPENAI_NAMES.values())
        breaks.note(NO_OPENAI_NAMES)
        return
    for mistral, openai_name in present.items():
        assert headers[openai_name] == headers[mistral], openai_name


@pytest.mark.feature("Raw responses", "request id (x-request-id)")
def test_chat_raw_response_has_a_request_id(client: OpenAI, breaks: Breaks) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert raw.http_response.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.parse().choices[0].message.content
    _assert_request_id(raw.request_id, raw.headers, breaks)


@pytest.mark.feature("Raw responses", "request id (x-request-id)")
async def test_chat_raw_response_has_a_request_id_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    raw = await aclient.chat.completions.with_raw_response.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    reply = raw.parse()
    assert reply.choices[0].message.content
    _assert_request_id(raw.request_id, raw.headers, breaks)
    if not breaks.expected:
        assert reply._request_id == raw.request_id  # the parsed object carries it too


@pytest.mark.feature("Raw responses", "request id (x-request-id)")
@pytest.mark.parametrize("route", ["models", "embeddings"])
def test_every_route_answers_with_a_request_id(client: OpenAI, breaks: Breaks, route: str) -> None:
    calls: dict[str, Callable[[], Any]] = {
        "models": lambda: client.models.with_raw_response.list(),
        "embeddings": lambda: client.embeddings.with_raw_response.create(
            model="mistral-embed", input="hello", encoding_format="float"
        ),
    }
    raw = calls[route]()
    assert raw.headers["content-type"].startswith("application/json")
    raw.parse()
    _assert_request_id(raw.request_id, raw.headers, breaks)


@pytest.mark.feature("Raw responses", "the client's own x-request-id is echoed")
def test_the_clients_request_id_is_echoed(client: OpenAI, breaks: Breaks) -> None:
    """A trace id set by the caller (a gateway, an APM agent) comes back as the SDK's ``request_id``."""
    raw = client.models.with_raw_response.retrieve(
        MODEL, extra_headers={"x-request-id": "trace-0001-contract"}
    )
    raw.parse()
    if breaks.expected:
        assert raw.request_id is None
        breaks.note("the client's x-request-id is not echoed: request_id is None")
    else:
        assert raw.request_id == "trace-0001-contract"


@pytest.mark.feature("Raw responses", "request id (x-request-id)")
def test_an_error_carries_the_request_id(client: OpenAI, breaks: Breaks) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client.models.retrieve("no-such-model-anywhere")
    _assert_request_id(raised.value.request_id, raised.value.response.headers, breaks)


@pytest.mark.feature("Raw responses", "rate-limit headers under OpenAI's names")
def test_rate_limit_headers(client: OpenAI, breaks: Breaks) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    raw.parse()
    _assert_rate_limits(raw.headers, breaks)


@pytest.mark.feature("Raw responses", "rate-limit headers under OpenAI's names")
async def test_rate_limit_headers_on_embeddings_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    raw = await aclient.embeddings.with_raw_response.create(model="mistral-embed", input=["a", "b"])
    assert len(raw.parse().data) == 2
    _assert_rate_limits(raw.headers, breaks)


@pytest.mark.feature("Raw responses", "rate-limit headers under OpenAI's names")
def test_a_rate_limited_answer_keeps_its_headers(
    client: OpenAI, breaks: Breaks, fault: Callable[[str], dict[str, str]]
) -> None:
    """The 429 a client backs off on carries Retry-After and the budget, under both names behind the shim."""
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Fault probe: 429, retry after 7 s."}],
            extra_headers=fault("status=429;retry_after=7"),
        )
    headers = raised.value.response.headers
    assert headers["retry-after"] == "7"
    _assert_rate_limits(headers, breaks)


@pytest.mark.feature("Raw responses", "streaming response headers")
def test_a_stream_raw_response(client: OpenAI, breaks: Breaks) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=HELLO, stream=True)  # type: ignore[arg-type]
    assert raw.headers["content-type"].startswith("text/event-stream")
    _assert_request_id(raw.request_id, raw.headers, breaks)
    chunks = list(raw.parse())
    assert chunks and chunks[-1].choices[0].finish_reason == "stop"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


@pytest.mark.feature("Raw responses", "streaming response headers")
def test_streaming_response_gives_headers_before_the_body(client: OpenAI, breaks: Breaks) -> None:
    """``with_streaming_response``: headers first, then the SSE lines as they come, ending with [DONE]."""
    with client.chat.completions.with_streaming_response.create(
        model=MODEL,
        messages=HELLO,  # type: ignore[arg-type]
        stream=True,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        _assert_request_id(response.request_id, response.headers, breaks)
        data = [line for line in response.iter_lines() if line.startswith("data:")]
    assert data[-1] == "data: [DONE]"
    assert len(data) >= 3


@pytest.mark.feature("Raw responses", "streaming response headers")
async def test_streaming_response_gives_headers_before_the_body_async(
    aclient: AsyncOpenAI, breaks: Breaks
) -> None:
    async with aclient.chat.completions.with_streaming_response.create(
        model=MODEL,
        messages=HELLO,  # type: ignore[arg-type]
        stream=True,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        _assert_request_id(response.request_id, response.headers, breaks)
        data = [line async for line in response.iter_lines() if line.startswith("data:")]
    assert data[-1] == "data: [DONE]"
