"""A client's JSON body, checked before anything translates it: what may arrive, and the 4xx for the rest.

A translated route needs a JSON object. Each way a body can fail to be one gets its own clear refusal in
OpenAI's error format, never a 500: a declared media type that is not JSON (415; Mistral's own API
refuses such a body too), bytes that are not JSON or not UTF-8, a body that is JSON but not an object, a
string that is not Unicode (an unpaired surrogate, which no encoder can write on), and nesting deeper than
``--max-json-depth``. The depth limit exists because translation walks the body recursively; no real
request comes near it (a tool schema nested 20 objects deep is 40 levels), so it only stops abuse.

The checks cost almost nothing on real traffic: orjson already rejects invalid Unicode, and the nesting is
only walked when the body holds more brackets than the limit.
"""

from typing import Any

from mistral_wire import jsonio
from shim.translate.problem import OpenAIError

JSON_HINT = "Send a JSON object, encoded as UTF-8, with 'Content-Type: application/json'."


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
