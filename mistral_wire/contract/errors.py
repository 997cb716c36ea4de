"""Mistral's error answers, as they appear on the wire.

Mistral has three families of error bodies (reference §8, real-traffic §13):

* the application envelope ``{"object":"error","message","type","param","code"}``, with a string ``code``
  such as ``"1500"`` or null, and since 2026 sometimes ``raw_status_code``;
* the 422 validation body, pydantic errors under ``detail``: wrapped in the envelope
  (``"message":{"detail":[...]}``, seen live up to 2026-02) or bare ``{"detail":[...]}`` (raw recordings of
  2025-04/05); which one is served is a server setting;
* the gateway's own bodies (Kong): ``{"message":...,"request_id":...}`` pretty-printed, for auth and routing.

Everything that rejects a request raises ``MistralError``; the app renders it.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Literal

ValidationShape = Literal["envelope", "bare"]
# Which 429 body: the application's envelope (2025-08 on) or the gateway's ``{"message": ...}`` (2025-03/06).
RateLimitShape = Literal["app", "gateway"]

JSON = "application/json"
GATEWAY_JSON = "application/json; charset=utf-8"


def dumps(payload: Any) -> bytes:
    """Mistral's compact JSON: no spaces, raw UTF-8.

    A string with a lone surrogate (which JSON's ``\\ud800`` escape can smuggle in, and an error message
    may echo back) has no UTF-8 form: such a body is written with ASCII escapes instead, still valid JSON.
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(payload, separators=(",", ":")).encode()


@dataclass
class MistralError(Exception):
    """A refusal, ready to send: status, body, headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON
    # Kong pretty-prints its own bodies; the application writes compact JSON.
    gateway: bool = False
    # For 422s: the pydantic details, so the body can be rendered in either shape.
    details: list[dict[str, Any]] | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.body}"

    def render(self, shape: ValidationShape = "envelope") -> bytes:
        if self.details is not None and shape == "bare":
            return dumps({"detail": self.details})
        if self.gateway:
            lines = ",\n".join(
                f"  {json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in self.body.items()
            )
            return ("{\n" + lines + "\n}").encode(errors="backslashreplace")
        return dumps(self.body)


def envelope(
    message: Any, type_: str, code: str | None = None, *, raw_status_code: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"object": "error", "message": message, "type": type_, "param": None, "code": code}
    if raw_status_code is not None:
        body["raw_status_code"] = raw_status_code
    return body


def invalid_request(
    message: str,
    *,
    type_: str = "invalid_request_error",
    code: str | None = None,
    status: int = 400,
    raw_status_code: bool = False,
) -> MistralError:
    """A semantic refusal (HTTP 400) in the application envelope."""
    return MistralError(
        status, envelope(message, type_, code, raw_status_code=status if raw_status_code else None)
    )


def validation_failed(details: list[dict[str, Any]]) -> MistralError:
    """A schema refusal (HTTP 422) carrying pydantic's error details."""
    return MistralError(422, envelope({"detail": details}, "invalid_request_error"), details=details)


def invalid_model(model: str) -> MistralError:
    # Seen live: "Invalid model: mistral-medium-3.5", type invalid_model, code "1500", raw_status_code 400.
    return invalid_request(
        f"Invalid model: {model}", type_="invalid_model", code="1500", raw_status_code=True
    )


def unauthorized(request_id: str) -> MistralError:
    return MistralError(
        401,
        {"message": "Unauthorized", "request_id": request_id},
        headers={"WWW-Authenticate": "Key"},
        content_type=GATEWAY_JSON,
        gateway=True,
    )


def no_route(request_id: str) -> MistralError:
    return MistralError(
        404,
        {"message": "no Route matched with those values", "request_id": request_id},
        content_type=GATEWAY_JSON,
        gateway=True,
    )


def gateway_error(timed_out: bool, request_id: str) -> MistralError:
    """The gateway's own 502 (the service behind it failed) or 504 (it did not answer in time)."""
    if timed_out:
        body = {"message": "The upstream server is timing out", "request_id": request_id}
    else:
        body = {
            "message": "An invalid response was received from the upstream server",
            "request_id": request_id,
        }
    return MistralError(504 if timed_out else 502, body, content_type=GATEWAY_JSON, gateway=True)


def not_found(detail: str) -> MistralError:
    """A file or batch job that does not exist (or no longer does), as FastAPI's ``HTTPException`` writes it.

    Assumption: no recording shows this refusal; the files service answers its other refusals in FastAPI's
    ``{"detail": ...}`` shape ("Failed to decode data, please encode your file using UTF-8.",
    mistralai/client-ts#95, 2025-04), so a missing resource gets the same shape with a 404.
    """
    return MistralError(404, {"detail": detail})


def method_not_allowed(allowed: list[str]) -> MistralError:
    return MistralError(405, {"detail": "Method Not Allowed"}, headers={"Allow": ", ".join(allowed)})


def body_too_large(size: int | None, limit: int) -> MistralError:
    what = f"Request body of {size} bytes" if size else "Request body"
    return MistralError(413, envelope(f"{what} exceeds the limit of {limit} bytes", "invalid_request_error"))


def unparseable_body() -> MistralError:
    # FastAPI's answer when the body cannot be decoded at all (e.g. invalid UTF-8).
    return invalid_request("There was an error parsing the body")


def rate_limited(retry_after: int, shape: RateLimitShape = "app") -> MistralError:
    """A 429 in one of the two shapes the live API has sent.

    ``app``: ``{"object":"error","message":"Rate limit exceeded","type":"rate_limited",...,"code":"1300"}``
    (cline#9085, 2026-02; ``raw_status_code`` since 2026-03, raycast/extensions#31107). ``gateway``: the
    gateway's compact ``{"message":"Requests rate limit exceeded"}`` (anon-kode#53, 2025-03;
    pydantic-ai#1885, 2025-06), which has no ``type`` or ``code`` for a client to read.
    """
    headers = {"Retry-After": str(retry_after)}
    if shape == "gateway":
        return MistralError(
            429, {"message": "Requests rate limit exceeded"}, headers=headers, content_type=GATEWAY_JSON
        )
    return MistralError(
        429, envelope("Rate limit exceeded", "rate_limited", "1300", raw_status_code=429), headers=headers
    )


def status_error(status: int, request_id: str, rate_limit_shape: RateLimitShape = "app") -> MistralError:
    """The body Mistral sends for a bare status, used by fault injection."""
    if status == 401:
        return unauthorized(request_id)
    if status == 404:
        return no_route(request_id)
    if status == 429:
        return rate_limited(1, rate_limit_shape)
    if status == 422:
        return validation_failed([])
    if status == 500:
        return MistralError(500, envelope("Service unavailable.", "internal_server_error", "1000"))
    if status == 503:
        return MistralError(
            503, envelope("Service tier capacity exceeded for this model.", "invalid_request_error")
        )
    if status in (502, 504):
        return gateway_error(status == 504, request_id)
    if status >= 500:
        return MistralError(status, envelope("Internal server error", "internal_server_error", "1000"))
    return invalid_request(f"Request failed with status {status}", status=status)
