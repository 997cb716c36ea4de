"""Reading a client's request body within the shim's limits, and the JSON object a translated route needs.

Three things can go wrong before a body is even JSON, and each is the client's 4xx, never a hang or a 500:

* **Too large** (413): over ``--max-body-mb``. A declared ``Content-Length`` over the limit is refused
  before a byte of the body is read; a chunked body is refused as soon as it passes the limit.
* **Too slow** (408): no byte for ``--client-timeout`` seconds. Without it a client that stops half-way
  (or a compressed body whose decoder waits for data that never comes) would hold a handler open.
* **Not decodable** (400): a ``Content-Encoding`` (gzip, deflate, br) whose data does not decompress.

After any of them the connection is closed once the answer is sent (``OpenAIError.close_connection``): the
rest of the body is not worth reading, and after a decoding failure aiohttp's parser has lost its place.

Then a translated route needs a JSON object, and each way a body can fail to be one gets its own refusal:
a declared media type that is not JSON (415; Mistral's own API refuses such a body too), bytes that are not
JSON or not UTF-8, a body that is JSON but not an object, a string that is not Unicode (an unpaired
surrogate, which no encoder can write), and nesting deeper than ``--max-json-depth``. The depth limit exists
because translation walks the body recursively; no real request comes near it (a tool schema nested 20
objects deep is 40 levels), so it only stops abuse.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mistral_wire import jsonio
from shim.translate.problem import OpenAIError

JSON_HINT = "Send a JSON object, encoded as UTF-8, with 'Content-Type: application/json'."


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_mb: float
    idle_seconds: float
    max_depth: int


def too_large(limits: Limits) -> OpenAIError:
    """OpenAI's 413 for a body over ``--max-body-mb``, naming the limit and the setting that raises it."""
    return OpenAIError(
        413,
        f"The request body exceeds the shim's limit of {limits.max_bytes} bytes "
        f"({limits.max_mb:g} MB, set with --max-body-mb).",
        code="request_too_large",
        close_connection=True,
    )


def _too_slow(limits: Limits) -> OpenAIError:
    return OpenAIError(
        408,
        f"The request body stopped arriving: nothing for {limits.idle_seconds:g} seconds (--client-timeout).",
        code="request_timeout",
        close_connection=True,
    )


def _undecodable(request: web.Request) -> OpenAIError:
    # aiohttp marked this payload finished with an error; ending it stops aiohttp from reading the
    # rest as the body (and logging the error again) before it closes the connection.
    request.content.feed_eof()
    encoding = request.headers.get("Content-Encoding", "identity")
    return OpenAIError(
        400,
        f"The request body could not be decoded: it is not valid '{encoding}' data, as its "
        "Content-Encoding header says.",
        code="invalid_body_encoding",
        close_connection=True,
    )


async def read(request: web.Request, limits: Limits) -> bytes:
    """The whole body, or the 413, 408 or 400 (raised) that says why not."""
    if (request.content_length or 0) > limits.max_bytes:
        raise too_large(limits)
    body = bytearray()
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(limits.idle_seconds) as idle:
            while chunk := await request.content.readany():
                body += chunk
                if len(body) > limits.max_bytes:
                    raise too_large(limits)
                idle.reschedule(loop.time() + limits.idle_seconds)
    except TimeoutError:
        raise _too_slow(limits) from None
    except web.RequestPayloadError:
        raise _undecodable(request) from None
    return bytes(body)


# --- the JSON object --------------------------------------------------------------------------------------


def is_json_media_type(content_type: str | None) -> bool:
    """JSON as FastAPI (so Mistral) reads it: no type, ``application/json`` or ``application/*+json``."""
    if not content_type:
        return True
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def nested_deeper_than(raw: bytes, value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed from ``raw``) has containers nested more than ``limit`` levels deep.

    Each level takes at least two bytes, so a body that short is not walked at all. Otherwise the walk
    visits containers only: on a 50 KB conversation it costs less than counting its brackets did.
    """
    if len(raw) <= 2 * limit:
        return False
    level, depth = [value], 1
    while level:
        if depth > limit:
            return True
        below = []
        for node in level:
            for child in node.values() if isinstance(node, dict) else node:
                if isinstance(child, dict | list):
                    below.append(child)
        level, depth = below, depth + 1
    return False


def _invalid(message: str, code: str = "invalid_json") -> OpenAIError:
    return OpenAIError(400, message, code=code)


def too_deep(limit: int) -> OpenAIError:
    return _invalid(
        f"The JSON body is nested more than {limit} levels deep, the shim's limit (--max-json-depth).",
        "json_too_deep",
    )


def parse_object(raw: bytes, content_type: str | None, max_depth: int) -> dict[str, Any]:
    """The body as a JSON object, or the OpenAI error (raised) that says what is wrong with it."""
    if not is_json_media_type(content_type):
        raise OpenAIError(
            415,
            f"Content-Type {content_type!r} is not supported on this route. {JSON_HINT}",
            code="unsupported_media_type",
        )
    if not raw:
        raise _invalid(f"The request body is empty. {JSON_HINT}")
    try:
        body = jsonio.loads_strict(raw)
    except jsonio.TooDeep:
        raise too_deep(max_depth) from None
    except jsonio.NotUnicode as exc:
        raise _invalid(f"The JSON body is not valid Unicode: {exc}.", "invalid_unicode") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError say where the body went wrong
        raise _invalid(f"We could not parse the JSON body of your request ({exc}). {JSON_HINT}") from None
    if not isinstance(body, dict):
        raise _invalid(f"The request body must be a JSON object, not {_json_kind(body)}. {JSON_HINT}")
    if nested_deeper_than(raw, body, max_depth):
        raise too_deep(max_depth)
    return body


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")
