"""What an error answer must look like: OpenAI's from the shim, Mistral's from the mock and the pass-through.

The shim's own checks (``assert_openai_error``, ``assert_mistral_error``) also require the headers the shim
puts on every answer; ``assert_stream_error`` reads a stream to the error event that must end it; ``said`` is
the message of an OpenAI error body as a client reads it; ``mistral_error`` accepts the shapes Mistral
answers a 4xx with, and nothing else, parsed as strict JSON.
"""

import json
from typing import Any

import httpx2 as httpx
import openai
import pytest

# --- OpenAI's protocol: the shim's translated routes --------------------------------------------------------


def said(error: openai.APIStatusError) -> str:
    """The ``error.message`` of the OpenAI error body (the SDK's own text adds "Error code: ...")."""
    assert isinstance(error.body, dict), error.body
    return error.body["message"]


def assert_openai_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    assert response.headers["x-request-id"]
    float(response.headers["x-shim-overhead-ms"])
    return error


def assert_stream_error(stream: openai.Stream, code: str) -> list:
    """Read ``stream`` to its end: it must raise the shim's error event, after the chunks it got."""
    got = []
    with pytest.raises(openai.APIError) as raised:
        for item in stream:
            got.append(item)
    assert not isinstance(raised.value, openai.APIConnectionError), "a cut connection, not an error event"
    assert isinstance(raised.value.body, dict) and raised.value.body["code"] == code, raised.value.body
    return got


# --- Mistral's protocol: the mock, and the shim's pass-through ----------------------------------------------


def assert_mistral_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """A refusal on the pass-through, in Mistral's application envelope with the shim's headers."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()
    assert set(error) == {"object", "message", "type", "param", "code"}
    assert error["object"] == "error" and error["message"]
    if code is not None:
        assert error["code"] == code
    assert response.headers["x-request-id"]
    float(response.headers["x-shim-overhead-ms"])
    return error


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(raw: bytes) -> Any:
    """Parse as standard JSON: ``NaN`` and ``Infinity``, which Python accepts and browsers do not, fail."""
    return json.loads(raw, parse_constant=_refuse_constant)


def mistral_error(status: int, content_type: str, raw: bytes) -> dict[str, Any]:
    """The parsed body of a 4xx, asserted to be JSON in one of the shapes Mistral answers errors with.

    The application's envelope ``{"object":"error","message","type","param","code"}``; the 422 validation
    body bare (``{"detail":[...]}``) or FastAPI's ``{"detail":"Method Not Allowed"}``; the gateway's
    ``{"message":...,"request_id":...}`` (and its 429 ``{"message":...}``).
    """
    assert 400 <= status < 500, (status, raw[:300])
    assert content_type.startswith("application/json"), (status, content_type, raw[:300])
    body = strict_json(raw)
    assert isinstance(body, dict), body
    if "object" in body:
        assert body["object"] in ("error", "Error") and "message" in body and "type" in body, body
    elif "detail" in body:
        assert set(body) == {"detail"} and isinstance(body["detail"], list | str), body
    else:
        assert isinstance(body.get("message"), str) and set(body) <= {"message", "request_id"}, body
    return body
