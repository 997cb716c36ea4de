"""Every error shape Mistral (or the gateway in front of it) sends → OpenAI's ``{"error": {...}}``.

The openai SDK picks its exception class from the HTTP status (400 BadRequestError, 401
AuthenticationError, 404 NotFoundError, 429 RateLimitError, 5xx InternalServerError) and shows
``error.message``; Mistral's bodies come in several shapes (reference §8, real-traffic §13, catalogue
36-39), some with an object or a JSON string where a message should be. So each shape is recognised here,
a readable message is built, and the status is chosen for the exception the client should get.

Decisions:
* Validation failures (422, any of the four detail shapes) become 400 ``invalid_request_error``, as OpenAI
  answers an invalid parameter; the message lists ``<param>: <msg>`` per pydantic detail.
* ``Invalid model`` (400, or 404 from ``GET /v1/models/{id}``; type ``invalid_model``, code "1500")
  becomes 404 ``model_not_found``, which is what OpenAI answers for an unknown model, so code written
  against OpenAI's NotFoundError keeps working.
* Mistral's own error type (e.g. ``invalid_request_message_order``), or else its numeric code, is kept in
  ``code`` so nothing is lost.
* A non-JSON 5xx (an HTML page or an empty body from a gateway) is a bad gateway: 502. An error on a
  status below 400 cannot be relayed as such and is a bad gateway too.
"""

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shim.translate.problem import OpenAIError, server_error

TYPE_BY_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}
# Mistral types that say no more than the status does; a more specific one is kept as the code.
GENERIC_TYPES = frozenset(
    {"invalid_request_error", "internal_server_error", "server_error", "api_error", "error", "rate_limited"}
)
ROLE_TAGS = frozenset({"system", "user", "assistant", "tool", "developer", "function"})
_BUILTIN_LABELS = frozenset({"str", "int", "float", "bool", "list", "dict", "bytes", "none", "null"})
_INVALID_MODEL = re.compile(r"^Invalid model: ?(?P<model>.*)$", re.DOTALL)
_NON_JSON = "Upstream returned HTTP {status} with a non-JSON body"


def _headers(headers: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Lower-cased name → (name as sent, value); the first occurrence of a name wins."""
    found: dict[str, tuple[str, str]] = {}
    for name, value in headers.items():
        found.setdefault(name.lower(), (name, value))
    return found


def openai_rate_limit_headers(mistral: Mapping[str, str]) -> dict[str, str]:
    """Mistral's ``x-ratelimit-*`` and ``retry-after`` headers as sent, plus OpenAI's names for them.

    OpenAI clients and dashboards read ``x-ratelimit-{limit,remaining}-{requests,tokens}``. Mistral counts
    requests per minute, or per 10 seconds on some plans, and tokens per minute (and month).
    """
    found = _headers(mistral)
    out = {name: value for key, (name, value) in found.items() if key.startswith("x-ratelimit-")}
    if "retry-after" in found:
        name, value = found["retry-after"]
        out[name] = value
    for kind in ("limit", "remaining"):
        for window in ("req-minute", "req-10-second"):
            if f"x-ratelimit-{kind}-{window}" in found:
                out.setdefault(f"x-ratelimit-{kind}-requests", found[f"x-ratelimit-{kind}-{window}"][1])
                break
        if f"x-ratelimit-{kind}-tokens-minute" in found:
            out.setdefault(f"x-ratelimit-{kind}-tokens", found[f"x-ratelimit-{kind}-tokens-minute"][1])
    return out


def from_transport(kind: str, detail: str, seconds: float | None = None) -> OpenAIError:
    """OpenAI's error for a transport failure of the upstream (``shim.upstream.UpstreamFailure``)."""
    if kind == "timeout":
        return upstream_timeout(seconds or 0.0)
    if kind == "closed":
        return upstream_unreachable(f"it closed the connection before answering ({detail})")
    if kind == "broken":
        return server_error(
            502, f"The connection to the Mistral API failed mid-answer: {detail}.", "upstream_bad_response"
        )
    if kind == "bad_path":
        return OpenAIError(400, detail, code="invalid_path")
    return upstream_unreachable(detail)


def upstream_unreachable(detail: str) -> OpenAIError:
    """Mistral could not be reached at all (DNS, refused or reset connection, TLS)."""
    return server_error(502, f"Could not reach the Mistral API: {detail}", "upstream_unreachable")


def upstream_timeout(seconds: float) -> OpenAIError:
    """Mistral did not answer in time; 504 so clients see a gateway timeout, not a failed request."""
    message = f"The Mistral API did not answer within {seconds:g} seconds."
    return server_error(504, message, "upstream_timeout")


# --- pydantic validation details ----------------------------------------------------------------------


def _is_label(segment: str) -> bool:
    """A union branch label pydantic puts in ``loc`` (``str``, ``list[...]``, ``ToolChoice``), not a field."""
    return (
        segment.lower() in _BUILTIN_LABELS
        or "[" in segment
        or "-" in segment
        or (segment[:1].isupper() and "_" not in segment)
    )


def detail_param(loc: Iterable[Any]) -> str:
    """``["body","messages",0,"user","content","str"]`` → ``messages[0].content``.

    Drops the leading ``body``, the role tag after a message index, the ``function`` tag after a tool
    index, the tag after an index into a tagged union, and union branch labels.
    """
    segments = list(loc)
    if segments[:1] == ["body"]:
        segments = segments[1:]
    out = ""
    field: str | None = None  # the last field name, to know what an index points into
    tagged = False  # the last label was a tagged union: the segment after the next index is its tag
    after_index = False
    for segment in segments:
        if isinstance(segment, int):
            out += f"[{segment}]"
            after_index = True
            continue
        text = str(segment)
        if after_index and (
            (field == "messages" and text in ROLE_TAGS) or (field == "tools" and text == "function") or tagged
        ):
            after_index = tagged = False
            continue
        after_index = False
        if _is_label(text):
            tagged = tagged or "tagged-union[" in text
            continue
        field, tagged = text, False
        out += f".{text}" if out else text
    return out


def _details(body: Mapping[str, Any]) -> list[Any] | None:
    """The pydantic detail list in any of the four 422 shapes (catalogue 36), or None."""
    if isinstance(detail := body.get("detail"), list):  # bare FastAPI body, and php-mistral's shape
        return detail
    message = body.get("message")
    if isinstance(message, str) and message.lstrip().startswith("{"):
        try:  # the 2024 proxy wrapped the detail body as a JSON string
            message = json.loads(message)
        except ValueError:
            return None
    if isinstance(message, dict) and isinstance(detail := message.get("detail"), list):
        return detail
    return None


def _is_branch_noise(loc: list[Any], param: str, params: list[str]) -> bool:
    """Whether a detail only says that one branch of a union did not match, while another detail goes
    deeper into the same field: for ``content`` given as a list with a bad chunk, pydantic also reports
    "Input should be a valid string" for the string branch, which would hide the real problem."""
    last = loc[-1] if loc else None
    return (
        isinstance(last, str)
        and _is_label(last)
        and any(other != param and other.startswith(param) and other[len(param)] in ".[" for other in params)
    )


def _validation_error(details: list[Any]) -> OpenAIError:
    lines: list[str] = []
    params: list[str] = []
    code: str | None = None
    found = [detail_param(detail.get("loc") or []) if isinstance(detail, dict) else "" for detail in details]
    for detail, param in zip(details, found, strict=True):
        if not isinstance(detail, dict):
            lines.append(str(detail))
            continue
        if _is_branch_noise(list(detail.get("loc") or []), param, found):
            continue
        message = str(detail.get("msg") or "Invalid value")
        lines.append(f"{param}: {message}" if param else message)
        if param:
            params.append(param)
        code = code or (str(detail["type"]) if detail.get("type") else None)
    text = "; ".join(dict.fromkeys(lines)) or "Mistral rejected the request as invalid."
    return OpenAIError(400, text, param=params[0] if params else None, code=code)


# --- everything else ----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return "; ".join(value)
    return None


def _code(body: Mapping[str, Any]) -> str | None:
    kind = body.get("type")
    if isinstance(kind, str) and kind and kind not in GENERIC_TYPES:
        return kind
    code = body.get("code")
    return None if code is None or code == "" else str(code)


def _non_json(status: int, raw: bytes) -> OpenAIError:
    message = _NON_JSON.format(status=status)
    text = raw.decode("utf-8", "replace").strip()
    # A short plain-text reason is worth showing; markup, binary and JSON that is not an object are not.
    if text and text.isprintable() and not text.startswith(("<", "[", "{", '"')) and len(text) <= 200:
        message += f": {text}"
    if 400 <= status < 500:
        return _from_body(status, {"message": message})
    return server_error(502, message, "upstream_bad_response")


def _type(status: int) -> str:
    return "server_error" if status >= 500 else TYPE_BY_STATUS.get(status, "invalid_request_error")


def _from_body(status: int, body: Mapping[str, Any]) -> OpenAIError:
    details = _details(body)
    if details is not None:
        return _validation_error(details)
    message = _text(body.get("message")) or _text(body.get("detail")) or _text(body.get("error"))
    if status == 401:
        return OpenAIError(
            401, message or "Unauthorized", type="authentication_error", code="invalid_api_key"
        )
    if status == 429:
        return OpenAIError(
            429, message or "Rate limit exceeded", type="rate_limit_error", code="rate_limit_exceeded"
        )
    invalid = _INVALID_MODEL.match(message or "")
    # 400 on the chat, FIM and embeddings endpoints; GET /v1/models/{id} answers the same body as a 404.
    unknown = body.get("type") == "invalid_model" or str(body.get("code")) == "1500" or invalid
    if status in (400, 404) and unknown:
        model = invalid.group("model").strip() if invalid else ""
        return OpenAIError(
            404,
            f"The model `{model}` does not exist or you do not have access to it (Mistral: {message}).",
            param="model",
            code="model_not_found",
        )
    shown = 502 if status < 400 else status
    param = body.get("param") if isinstance(body.get("param"), str) else None
    text = message or f"Mistral answered HTTP {status}: {json.dumps(body, ensure_ascii=False)[:300]}"
    return OpenAIError(shown, text, type=_type(shown), param=param, code=_code(body))


def from_mistral(status: int, body: bytes, headers: Mapping[str, str]) -> OpenAIError:
    """OpenAI's error for a failed Mistral answer: its status, body bytes and headers.

    ``Retry-After`` and the rate-limit headers are carried over (with OpenAI's names added), so the
    openai SDK's own back-off and clients' rate-limit accounting keep working.
    """
    try:
        parsed = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    error = _from_body(status, parsed) if isinstance(parsed, dict) else _non_json(status, body)
    error.headers.update(openai_rate_limit_headers(headers))
    return error
