"""Faults on request (``x-mock-fault``) and server-wide rate limits, as a client under test sees them."""

import json
import time
from collections.abc import Callable

import httpx2 as httpx
import pytest

from tests.conftest import AUTH

CHAT = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Say hello."}]}
STREAM = {**CHAT, "stream": True, "max_tokens": 12}


def fault(http: httpx.Client, setting: str, body: dict = CHAT) -> httpx.Response:
    return http.post("/v1/chat/completions", json=body, headers={"x-mock-fault": setting})


def test_429_with_retry_after(http: httpx.Client) -> None:
    response = fault(http, "status=429;retry_after=2")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {
        "object": "error",
        "message": "Rate limit exceeded",
        "type": "rate_limited",
        "param": None,
        "code": "1300",
        "raw_status_code": 429,
    }


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (
            500,
            {
                "object": "error",
                "message": "Service unavailable.",
                "type": "internal_server_error",
                "param": None,
                "code": "1000",
            },
        ),
        (
            503,
            {
                "object": "error",
                "message": "Service tier capacity exceeded for this model.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            },
        ),
    ],
)
def test_server_errors_in_mistral_shapes(http: httpx.Client, status: int, body: dict) -> None:
    response = fault(http, f"status={status}")
    assert response.status_code == status
    assert response.json() == body


def test_gateway_statuses(http: httpx.Client) -> None:
    response = fault(http, "status=502")
    assert response.status_code == 502
    assert set(response.json()) == {"message", "request_id"}


def test_fault_applies_before_validation(http: httpx.Client) -> None:
    assert fault(http, "status=503", {"not": "valid"}).status_code == 503


@pytest.mark.parametrize("setting", ["status=abc", "explode=1", "status=200", "latency_ms=-5", "status"])
def test_unreadable_fault_header_is_refused_clearly(http: httpx.Client, setting: str) -> None:
    response = fault(http, setting)
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid x-mock-fault header: ")


def test_latency_delays_the_answer(http: httpx.Client) -> None:
    started = time.monotonic()
    assert fault(http, "latency_ms=300").status_code == 200
    assert time.monotonic() - started >= 0.3


def _event_times(http: httpx.Client, setting: str) -> list[float]:
    times = []
    with http.stream(
        "POST", "/v1/chat/completions", json=STREAM, headers={"x-mock-fault": setting}
    ) as response:
        started = time.monotonic()
        for line in response.iter_lines():
            if line.startswith("data: "):
                times.append(time.monotonic() - started)
    return times


def test_ttft_and_chunk_spacing(http: httpx.Client) -> None:
    times = _event_times(http, "ttft_ms=200;chunk_ms=40")
    assert times[0] >= 0.19
    # Event i is due at ttft + i * chunk: the last one no earlier than that.
    assert times[-1] >= 0.2 + (len(times) - 1) * 0.04 - 0.01


def test_disconnect_after_n_events(http: httpx.Client) -> None:
    received = []
    with (
        pytest.raises(httpx.TransportError),
        http.stream(
            "POST", "/v1/chat/completions", json=STREAM, headers={"x-mock-fault": "disconnect_after=3"}
        ) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("data: "):
                received.append(json.loads(line[6:]))
    assert len(received) == 3
    assert all(event["choices"][0]["finish_reason"] is None for event in received)
    assert http.post("/v1/chat/completions", json=CHAT).status_code == 200


def test_disconnect_on_a_plain_answer(http: httpx.Client) -> None:
    with pytest.raises(httpx.TransportError):
        fault(http, "disconnect_after=0")


def test_rpm_bucket_answers_429_with_headers_counting_down(start_mock: Callable[..., str]) -> None:
    url = start_mock(rpm=3)
    remaining = []
    with httpx.Client(base_url=url, headers=AUTH) as client:
        for _ in range(3):
            response = client.post("/v1/chat/completions", json=CHAT)
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit-req-minute"] == "3"
            remaining.append(int(response.headers["x-ratelimit-remaining-req-minute"]))
        refused = client.post("/v1/chat/completions", json=CHAT)
        other_key = client.post(
            "/v1/chat/completions", json=CHAT, headers={"Authorization": "Bearer another"}
        )
    assert remaining == [2, 1, 0]
    assert refused.status_code == 429
    assert refused.json()["type"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert other_key.status_code == 200


def test_tpm_bucket(start_mock: Callable[..., str]) -> None:
    url = start_mock(tpm=200)
    with httpx.Client(base_url=url, headers=AUTH) as client:
        statuses = [
            client.post("/v1/chat/completions", json={**CHAT, "random_seed": i}).status_code
            for i in range(12)
        ]
        refused = client.post("/v1/chat/completions", json={**CHAT, "random_seed": 99})
    assert statuses[0] == 200
    assert 429 in statuses
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert int(refused.headers["x-ratelimit-remaining-tokens-minute"]) < 200


def test_server_wide_latency(start_mock: Callable[..., str]) -> None:
    url = start_mock(latency_ms=250)
    started = time.monotonic()
    assert httpx.post(f"{url}/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200
    assert time.monotonic() - started >= 0.25
