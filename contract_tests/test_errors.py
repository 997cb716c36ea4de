"""Errors as the openai SDK's exception classes, with messages a person can act on.

The SDK picks its exception from the HTTP status and shows ``error.message`` from OpenAI's
``{"error": {...}}``. Mistral sends its own envelopes (MISTRAL-CONTRACT §8): the SDK then reads the whole
body, shows ``message`` only when it is a string, and so a 422 validation error reads just
"Error code: 422" (catalogue #36), and an unknown model is a 400 where OpenAI code expects a 404
(catalogue #38). Rate limits and server errors keep their statuses and ``Retry-After`` either way, so the
SDK's own retries work with and without the shim; the tests count the attempts it makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx2 as httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from contract_tests.conftest import TIMEOUT, Attempts, Breaks
from contract_tests.oracle import Oracle
from contract_tests.targets import Target

MODEL = "mistral-small-latest"
HELLO = [{"role": "user", "content": "Say hello."}]
Fault = Callable[[str], dict[str, str]]


def probe(label: str) -> list[dict[str, str]]:
    """A conversation of its own for each fault: ``shim+record`` saves what a faulted request got back, and
    a fault's answer must never be what an ordinary request with the same body is replayed."""
    return [{"role": "user", "content": f"Fault probe: {label}."}]


# --- 400: a request Mistral refuses ---------------------------------------------------------------------

ORPHAN_TOOL = [
    {"role": "user", "content": "Hi"},
    {"role": "tool", "content": "18C", "tool_call_id": "abcDEF123"},
]


@pytest.mark.feature("Errors", "BadRequestError with Mistral's message")
def test_a_bad_role_order_is_a_readable_bad_request(client: OpenAI, target: Target) -> None:
    """Mistral's semantic 400 (catalogue #17) keeps its message, and its type as the code."""
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=ORPHAN_TOOL)  # type: ignore[arg-type]
    error = raised.value
    assert error.message.endswith("Unexpected role 'tool' after role 'user'")
    if target.via_shim:
        assert error.code == "invalid_request_message_order"
        assert error.type == "invalid_request_error"
    else:
        assert error.code == "3230"
        assert error.type == "invalid_request_message_order"


@pytest.mark.feature("Errors", "validation error names the field")
def test_a_validation_error_names_the_field(client: OpenAI, breaks: Breaks) -> None:
    """Mistral's 422 carries pydantic details; the SDK shows none of them unless they are translated."""
    if breaks.expected:
        with pytest.raises(openai.UnprocessableEntityError) as raised:
            client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=-1)  # type: ignore[arg-type]
        assert str(raised.value) == "Error code: 422"
        assert raised.value.param is None
        breaks.note("a validation error → 422 whose message is only 'Error code: 422'")
        return
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=-1)  # type: ignore[arg-type]
    error = raised.value
    assert error.message == "Error code: 400 - max_tokens: Input should be greater than or equal to 0"
    assert error.param == "max_tokens"
    assert error.type == "invalid_request_error"


@pytest.mark.feature("Errors", "validation error names the field")
async def test_a_wrong_type_names_the_field_async(aclient: AsyncOpenAI, breaks: Breaks) -> None:
    if breaks.expected:
        with pytest.raises(openai.UnprocessableEntityError) as unreadable:
            await aclient.chat.completions.create(model=MODEL, messages=HELLO, temperature="hot")  # type: ignore[arg-type]
        assert str(unreadable.value) == "Error code: 422"
        breaks.note("a validation error → 422 whose message is only 'Error code: 422'")
        return
    with pytest.raises(openai.BadRequestError) as raised:
        await aclient.chat.completions.create(model=MODEL, messages=HELLO, temperature="hot")  # type: ignore[arg-type]
    assert raised.value.param == "temperature"
    assert "temperature" in raised.value.message


# --- 404: an unknown model ------------------------------------------------------------------------------

NOT_FOUND = "unknown model → 400 BadRequestError (Invalid model, code 1500), not NotFoundError"


@pytest.mark.feature("Errors", "unknown model → NotFoundError")
def test_an_unknown_model_is_not_found(client: OpenAI, breaks: Breaks) -> None:
    with breaks(openai.BadRequestError, NOT_FOUND) as broke:
        with pytest.raises(openai.NotFoundError) as raised:
            client.chat.completions.create(model="no-such-model", messages=HELLO)  # type: ignore[arg-type]
        assert raised.value.code == "model_not_found"
        assert raised.value.param == "model"
        assert "no-such-model" in raised.value.message
    if breaks.expected:
        assert broke.value.message == "Error code: 400 - Invalid model: no-such-model"
        assert broke.value.code == "1500"


@pytest.mark.feature("Errors", "unknown model → NotFoundError")
async def test_an_unknown_model_on_a_stream_fails_at_create_async(
    aclient: AsyncOpenAI, breaks: Breaks
) -> None:
    """A refused stream raises when it is created, before any iteration, as OpenAI's does."""
    with breaks(openai.BadRequestError, NOT_FOUND), pytest.raises(openai.NotFoundError):
        await aclient.chat.completions.create(model="no-such-model", messages=HELLO, stream=True)  # type: ignore[arg-type]


# --- 401 ------------------------------------------------------------------------------------------------


@pytest.mark.feature("Errors", "wrong key → AuthenticationError")
@pytest.mark.targets("shim+mock", "shim+replay", "mock", "live-direct")  # `live` uses the shim's own key
def test_a_wrong_key_is_an_authentication_error(target: Target, oracle: Oracle) -> None:
    http = httpx.Client(transport=oracle.transport(), timeout=TIMEOUT)
    with (
        OpenAI(base_url=target.base_url, api_key="wrong-key", max_retries=0, http_client=http) as client,
        pytest.raises(openai.AuthenticationError) as raised,
    ):
        client.chat.completions.create(model=MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert raised.value.status_code == 401
    assert "Unauthorized" in raised.value.message
    if target.via_shim:
        assert raised.value.code == "invalid_api_key"


@pytest.mark.feature("Errors", "wrong key → AuthenticationError")
@pytest.mark.targets("shim+mock", "shim+replay", "mock", "live-direct")
async def test_a_wrong_key_is_an_authentication_error_async(target: Target, oracle: Oracle) -> None:
    http = httpx.AsyncClient(transport=oracle.async_transport(), timeout=TIMEOUT)
    async with AsyncOpenAI(
        base_url=target.base_url, api_key="wrong-key", max_retries=0, http_client=http
    ) as made:
        with pytest.raises(openai.AuthenticationError):
            await made.models.list()


# --- 429: the SDK's own retries -------------------------------------------------------------------------


@pytest.mark.feature("Errors", "RateLimitError, retries honour Retry-After")
def test_rate_limit_retries_honour_retry_after(retrying: OpenAI, attempts: Attempts, fault: Fault) -> None:
    """max_retries=2 and ``Retry-After: 1``: three attempts, a second apart (the default back-off would
    wait under 1.5 s in all), then RateLimitError with the message and the header."""
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as raised:
        retrying.chat.completions.create(
            model=MODEL,
            messages=probe("429 retried twice"),  # type: ignore[arg-type]
            extra_headers=fault("status=429;retry_after=1"),
        )
    elapsed = time.monotonic() - started
    assert attempts.seen == ["0", "1", "2"]
    assert elapsed >= 1.95, f"two Retry-After waits of 1 s took {elapsed:.2f} s"
    assert raised.value.response.headers["retry-after"] == "1"
    assert raised.value.message == "Error code: 429 - Rate limit exceeded"


@pytest.mark.feature("Errors", "RateLimitError, retries honour Retry-After")
async def test_rate_limit_retries_honour_retry_after_async(
    aretrying: AsyncOpenAI, attempts: Attempts, fault: Fault
) -> None:
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError):
        await aretrying.with_options(max_retries=1).embeddings.create(
            model="mistral-embed",
            input="Fault probe: 429 retried once.",
            encoding_format="float",
            extra_headers=fault("status=429;retry_after=1"),
        )
    assert attempts.seen == ["0", "1"]
    assert time.monotonic() - started >= 0.95


@pytest.mark.feature("Errors", "RateLimitError, retries honour Retry-After")
def test_the_gateways_rate_limit_body_is_readable(client: OpenAI, target: Target, fault: Fault) -> None:
    """The gateway's 429 has neither type nor code (catalogue #37); it is still a RateLimitError."""
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(
            model=MODEL,
            messages=probe("gateway 429"),  # type: ignore[arg-type]
            extra_headers=fault("status=429;shape=gateway"),
        )
    assert raised.value.message == "Error code: 429 - Requests rate limit exceeded"
    assert raised.value.response.headers["retry-after"] == "1"
    if target.via_shim:
        assert raised.value.type == "rate_limit_error"
        assert raised.value.code == "rate_limit_exceeded"


# --- 5xx ------------------------------------------------------------------------------------------------

SERVER_ERRORS = {
    500: "Service unavailable.",
    502: "An invalid response was received from the upstream server",
    503: "Service tier capacity exceeded for this model.",
    504: "The upstream server is timing out",
}


@pytest.mark.feature("Errors", "InternalServerError (5xx)")
@pytest.mark.parametrize("status", sorted(SERVER_ERRORS))
def test_a_server_error_is_an_internal_server_error(
    client: OpenAI, target: Target, fault: Fault, status: int
) -> None:
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(
            model=MODEL,
            messages=probe(f"HTTP {status}"),  # type: ignore[arg-type]
            extra_headers=fault(f"status={status}"),
        )
    assert raised.value.status_code == status
    assert raised.value.message == f"Error code: {status} - {SERVER_ERRORS[status]}"
    if target.via_shim:
        assert raised.value.type == "server_error"


@pytest.mark.feature("Errors", "InternalServerError (5xx)")
async def test_a_server_error_is_retried_by_the_sdk_async(
    aretrying: AsyncOpenAI, attempts: Attempts, fault: Fault
) -> None:
    """A 503 is retried with the SDK's back-off, as OpenAI's own 5xx are."""
    with pytest.raises(openai.InternalServerError):
        await aretrying.with_options(max_retries=1).embeddings.create(
            model="mistral-embed",
            input="Fault probe: 503 retried once.",
            encoding_format="float",
            extra_headers=fault("status=503"),
        )
    assert attempts.seen == ["0", "1"]


# --- the client's side: timeouts and broken connections -------------------------------------------------


@pytest.mark.feature("Errors", "APITimeoutError")
def test_a_slow_answer_is_a_timeout(client: OpenAI, fault: Fault) -> None:
    with pytest.raises(openai.APITimeoutError):
        client.with_options(timeout=0.5).chat.completions.create(
            model=MODEL,
            messages=probe("3 s of latency"),  # type: ignore[arg-type]
            extra_headers=fault("latency_ms=3000"),
        )


@pytest.mark.feature("Errors", "APITimeoutError")
async def test_a_slow_answer_is_a_timeout_async(aclient: AsyncOpenAI, fault: Fault) -> None:
    with pytest.raises(openai.APITimeoutError):
        await aclient.with_options(timeout=0.5).embeddings.create(
            model="mistral-embed",
            input="Fault probe: 3 s of latency.",
            encoding_format="float",
            extra_headers=fault("latency_ms=3000"),
        )


@pytest.mark.feature("Errors", "dropped connection")
def test_a_dropped_connection(client: OpenAI, target: Target, fault: Fault) -> None:
    """Mistral hanging up: the client sees it as a connection error; behind the shim, as a 502 that
    says what happened (and that the SDK would retry like any 5xx)."""
    expected = openai.InternalServerError if target.via_shim else openai.APIConnectionError
    with pytest.raises(expected) as raised:
        client.chat.completions.create(
            model=MODEL,
            messages=probe("dropped connection"),  # type: ignore[arg-type]
            extra_headers=fault("disconnect_after=0"),
        )
    if target.via_shim:
        assert raised.value.status_code == 502  # type: ignore[attr-defined]
        assert "reach" in raised.value.message  # "Could not reach the Mistral API: ServerDisconnectedError"
    else:
        assert not isinstance(raised.value, openai.APITimeoutError | openai.APIStatusError)
