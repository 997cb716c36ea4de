"""Faults on request (``x-mock-fault``) and server-wide rate limits, as a client under test sees them."""

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest

from testkit.auth import AUTH
from testkit.wire import CHAT, CHAT_STREAM


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


def _event_times(client: httpx.Client, setting: str | None = None, body: dict = CHAT_STREAM) -> list[float]:
    """Arrival of each SSE event, in seconds from sending the request."""
    times = []
    headers = {"x-mock-fault": setting} if setting else {}
    started = time.monotonic()
    with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                times.append(time.monotonic() - started)
    return times


def assert_spaced(times: list[float], first: float, gap: float) -> None:
    """Events arrive on their schedule (first after ``first``, then every ``gap``): never early, spread
    evenly rather than bunched, and not drifting. Mostly relative checks with generous bounds, so that only
    a machine stalled for a large share of the stream could fail it."""
    assert len(times) >= 8
    # Never early: event i is due ``first + i * gap`` after the request was sent (1 ms for clock rounding).
    for index, arrived in enumerate(times):
        assert arrived >= first + index * gap - 0.001, (index, arrived)
    # Spread, not bunched at the end: the middle event sits near the middle of the span, and most gaps are
    # near the configured one.
    span = times[-1] - times[0]
    middle = (times[len(times) // 2] - times[0]) / span
    expected_middle = (len(times) // 2) / (len(times) - 1)
    assert abs(middle - expected_middle) < 0.25, middle
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    assert gaps[len(gaps) // 2] >= 0.5 * gap
    # Generous upper bound, from the first event (the answer may wait for the tokenizer to load): the
    # stream takes less than twice its schedule (no drift, no stall).
    assert span < 2 * (len(times) - 1) * gap + 0.5


def test_ttft_and_chunk_spacing(http: httpx.Client) -> None:
    assert_spaced(_event_times(http, "ttft_ms=200;chunk_ms=40"), first=0.2, gap=0.04)


def test_server_wide_chunk_ms(start_mock: Callable[..., str]) -> None:
    url = start_mock(chunk_ms=30)
    with httpx.Client(base_url=url, headers=AUTH) as client:
        assert_spaced(_event_times(client), first=0.0, gap=0.03)
        # The header overrides the server setting for one request.
        assert_spaced(_event_times(client, "chunk_ms=10"), first=0.0, gap=0.01)


def test_zero_delay_streams_arrive_at_once(http: httpx.Client) -> None:
    times = _event_times(http)
    assert len(times) >= 8, "a multi-event stream, or the spacing says nothing"
    assert times[-1] - times[0] < 0.25, "no spacing was asked for"


def test_disconnect_after_n_events(http: httpx.Client) -> None:
    received = []
    with (
        pytest.raises(httpx.TransportError),
        http.stream(
            "POST", "/v1/chat/completions", json=CHAT_STREAM, headers={"x-mock-fault": "disconnect_after=3"}
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


def test_gateway_429_on_request(http: httpx.Client) -> None:
    response = fault(http, "status=429;shape=gateway;retry_after=3")
    assert response.status_code == 429
    assert response.content == b'{"message":"Requests rate limit exceeded"}'
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["retry-after"] == "3"
    assert fault(http, "status=429;shape=app").json()["type"] == "rate_limited"


@pytest.mark.parametrize("setting", ["status=500;shape=gateway", "shape=gateway", "status=429;shape=kong"])
def test_shape_is_for_429s_only(http: httpx.Client, setting: str) -> None:
    response = fault(http, setting)
    assert response.status_code == 400
    assert response.json()["message"].startswith("Invalid x-mock-fault header: ")


def test_server_wide_gateway_429s(start_mock: Callable[..., str]) -> None:
    url = start_mock(rpm=1, rate_limit_shape="gateway")
    with httpx.Client(base_url=url, headers=AUTH) as client:
        assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
        refused = client.post("/v1/chat/completions", json=CHAT)
        # A fault without shape follows the server's choice.
        faulted = client.get(
            "/v1/models", headers={"x-mock-fault": "status=429", "Authorization": "Bearer b"}
        )
    assert refused.status_code == 429
    assert refused.json() == {"message": "Requests rate limit exceeded"}
    assert int(refused.headers["retry-after"]) >= 1
    assert faulted.json() == {"message": "Requests rate limit exceeded"}


def test_the_command_line_offers_the_gateway_shape() -> None:
    from mockserver.cli import _parser, settings_from_args

    args = _parser().parse_args(["serve", "--rpm", "5", "--rate-limit-body", "gateway"])
    assert settings_from_args(args).rate_limit_shape == "gateway"
    assert "shape=gateway" in _parser()._subparsers._group_actions[0].choices["serve"].format_help()


MODELS_ROUTES = ["/v1/models", "/v1/models/mistral-small-latest"]


@pytest.mark.parametrize("path", MODELS_ROUTES)
def test_faults_apply_to_the_models_routes(http: httpx.Client, path: str) -> None:
    refused = http.get(path, headers={"x-mock-fault": "status=503"})
    assert refused.status_code == 503
    assert refused.json()["message"] == "Service tier capacity exceeded for this model."
    started = time.monotonic()
    assert http.get(path, headers={"x-mock-fault": "latency_ms=200"}).status_code == 200
    assert time.monotonic() - started >= 0.2
    with pytest.raises(httpx.TransportError):
        http.get(path, headers={"x-mock-fault": "disconnect_after=0"})
    assert http.get(path, headers={"x-mock-fault": "bogus=1"}).status_code == 400
    assert http.get(path).status_code == 200


def test_rpm_applies_to_every_route(start_mock: Callable[..., str]) -> None:
    url = start_mock(rpm=3)
    with httpx.Client(base_url=url, headers=AUTH) as client:
        answers = [client.get("/v1/models"), client.get("/v1/models/mistral-small-latest")]
        answers.append(client.post("/v1/chat/completions", json=CHAT))
        refused = client.get("/v1/models")
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["x-ratelimit-remaining-req-minute"] for a in answers] == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused.json()["type"] == "rate_limited"


def test_a_spent_token_budget_refuses_every_route(start_mock: Callable[..., str]) -> None:
    url = start_mock(tpm=20)
    with httpx.Client(base_url=url, headers=AUTH) as client:
        assert client.get("/v1/models").status_code == 200, "a model list costs no tokens"
        # One answer dearer than the whole budget is served from a full bucket, and overdraws it.
        spent = client.post("/v1/chat/completions", json={**CHAT, "max_tokens": 40})
        refused = client.get("/v1/models")
    assert spent.status_code == 200 and int(spent.headers["x-ratelimit-tokens-query-cost"]) > 20
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


# --- faults and limits on replayed answers ------------------------------------------------------------


def test_faults_and_rpm_apply_to_replayed_answers(
    start_mock: Callable[..., str], replay_folder: Path
) -> None:
    url = start_mock(mode="replay", recordings=replay_folder, speed=0, rpm=3)
    with httpx.Client(base_url=url, headers=AUTH) as client:
        assert client.get("/v1/models", headers={"x-mock-fault": "status=500"}).status_code == 500
        with pytest.raises(httpx.TransportError):
            client.post("/v1/chat/completions", json=CHAT, headers={"x-mock-fault": "disconnect_after=0"})
        received = []
        with (
            pytest.raises(httpx.TransportError),
            client.stream(
                "POST",
                "/v1/chat/completions",
                json=CHAT_STREAM,
                headers={"x-mock-fault": "disconnect_after=2"},
            ) as response,
        ):
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(line)
        assert len(received) == 2
        assert client.get("/v1/models").status_code == 200
        assert client.get("/v1/models").status_code == 429, (
            "three requests a minute (a status fault spends none)"
        )
