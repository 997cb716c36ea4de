"""300 random malformed requests through the shim (in front of the mock): not one 5xx, every answer a 4xx
in OpenAI's error format, and a good request answered between them and after.

The generator is seeded, so a failure names a request that can be replayed. Each category produces only
requests that are certainly wrong (a request that happened to be valid would prove nothing), and together
they cover what the bad-input tests check one by one, mixed: broken and non-object JSON, wrong types in
OpenAI's and Mistral's fields, junk messages, deep nesting, text that is not Unicode, wrong media types and
encodings, oversized bodies, a missing key, unknown routes, wrong methods and paths that try to climb out.
"""

import gzip
import json
import posixpath
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
from openai import OpenAI

from shim.translate import completions, embeddings
from shim.translate.chat import request as params
from testkit.auth import KEY
from testkit.leaks import keen_shim
from testkit.wire import CHAT


def kinds(rows: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each field's OpenAI types, as its translation row declares them."""
    return {name: row.kinds for name, row in rows.items()}


SEED = 20260507
REQUESTS = 300
MAX_BODY_MB = 0.25
GOOD: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {**CHAT, "max_tokens": 3},
    "/v1/completions": {"model": "mistral-small-latest", "prompt": "Once", "max_tokens": 3},
    "/v1/embeddings": {"model": "mistral-embed", "input": "hello"},
}
TABLES = {
    "/v1/chat/completions": kinds(params.FIELDS),
    "/v1/completions": kinds(completions.FIELDS),
    "/v1/embeddings": kinds(embeddings.FIELDS),
}
ROUTES = list(GOOD)

Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


def as_json(body: Any) -> bytes:
    return json.dumps(body).encode()


def route(rng: random.Random) -> str:
    return rng.choice(ROUTES)


def junk_scalar(rng: random.Random) -> Any:
    return rng.choice([None, True, False, 0, -1, 2**70, 1.5e300, "", "junk", "\u0000", "🦜" * 3])


def broken_json(rng: random.Random) -> Request:
    path = route(rng)
    text = as_json({**GOOD[path], "stream": rng.random() < 0.5})
    cut = rng.randrange(1, len(text) - 1)
    garbage = rng.choice([b"", b"}", b",", b"\x00", b"'", b"NaN]", b'"unterminated'])
    return "POST", path, {}, text[:cut] + garbage


def not_an_object(rng: random.Random) -> Request:
    value = rng.choice([[], [GOOD[ROUTES[0]]], "a string", 42, 1.5, None, True, [[[]]]])
    return "POST", route(rng), {}, as_json(value)


def wrong_openai_type(rng: random.Random) -> Request:
    path = route(rng)
    name, kinds = rng.choice(list(TABLES[path].items()))
    samples = {
        "string": rng.choice(["x", "", "0.5", "true"]),
        "integer": rng.choice([0, 7, -3, 2**40]),
        "number": rng.choice([0.5, -1.25, 3.75]),
        "boolean": rng.choice([True, False]),
        "object": rng.choice([{}, {"a": 1}, {"type": "text"}]),
        "array": rng.choice([[], [1], ["x", None]]),
    }
    accepted = set(kinds) | ({"integer"} if "number" in kinds else set())
    wrong = [value for kind, value in samples.items() if kind not in accepted]
    return "POST", path, {}, as_json({**GOOD[path], name: rng.choice(wrong)})


def wrong_mistral_type(rng: random.Random) -> Request:
    """Mistral's own fields: the shim passes them on, and the mock refuses them as Mistral would."""
    name, value = rng.choice(
        [
            ("safe_prompt", rng.choice(["maybe", [], {"a": 1}])),
            ("random_seed", rng.choice(["x", -5, 1.5, []])),
            ("prompt_mode", rng.choice([7, "nonsense-mode", []])),
            ("guardrails", rng.choice(["x", 5])),
        ]
    )
    return "POST", "/v1/chat/completions", {}, as_json({**GOOD["/v1/chat/completions"], name: value})


def junk_messages(rng: random.Random) -> Request:
    message = rng.choice(
        [
            junk_scalar(rng),
            {"role": rng.choice(["robot", "", "USER", "function_call"]), "content": "hi"},
            {"role": "user", "content": rng.choice([{}, 5, True, [5], [{"type": "nope"}]])},
            {"content": "no role"},
            {"role": "assistant", "tool_calls": rng.choice([5, "x", [5], [{"function": 5}]])},
            {"role": "tool", "content": "result"},  # answers a tool call nobody made
        ]
    )
    messages = rng.choice([[message], [{"role": "user", "content": "hi"}, message], []])
    body = {**GOOD["/v1/chat/completions"], "messages": messages, "stream": rng.random() < 0.3}
    return "POST", "/v1/chat/completions", {}, as_json(body)


def too_deep(rng: random.Random) -> Request:
    depth = int(10 ** rng.uniform(2.12, 5))  # 131 to 100,000 levels
    opening, closing = rng.choice([("[", "]"), ('{"a":', "}")])
    path = route(rng)
    field = {"/v1/chat/completions": "metadata", "/v1/completions": "prompt", "/v1/embeddings": "input"}[path]
    prefix = as_json({k: v for k, v in GOOD[path].items() if k != field})[:-1]
    inner = (opening * depth + "1" + closing * depth).encode()
    wrapped = b'{"deep":' + inner + b"}" if field == "metadata" else b"[" + inner + b"]"
    return "POST", path, {}, prefix + f', "{field}": '.encode() + wrapped + b"}"


def not_unicode(rng: random.Random) -> Request:
    path = route(rng)
    bad = rng.choice(
        [b"\\ud800", b"\\udfff", b"\\udc00\\ud800", b"\xed\xa0\x80", b"\xff", b"\xc0\xaf", b"\xe2\x82"]
    )
    field = {"/v1/chat/completions": "model", "/v1/completions": "prompt", "/v1/embeddings": "input"}[path]
    prefix = as_json({k: v for k, v in GOOD[path].items() if k != field})[:-1]
    return "POST", path, {}, prefix + f', "{field}": "x'.encode() + bad + b'y"}'


def wrong_media_type(rng: random.Random) -> Request:
    path = route(rng)
    kind = rng.choice(
        ["text/plain", "text/json", "multipart/form-data; boundary=b", "application/xml", "image/png"]
    )
    return "POST", path, {"Content-Type": kind}, as_json(GOOD[path])


def bad_encoding(rng: random.Random) -> Request:
    """A body whose Content-Encoding is a lie: the data is damaged where the decoder must notice it."""
    path = rng.choice([*ROUTES, "/mistral/v1/chat/completions"])
    encoding = rng.choice(["gzip", "deflate", "br"])
    plain = as_json(GOOD.get(path, GOOD[ROUTES[0]]))
    damaged = {
        "gzip": b"\x1f\x8c" + gzip.compress(plain)[2:],  # a wrong magic number
        "deflate": b"\x78\x9c\xff\xff" + rng.randbytes(16),  # a zlib header, then a reserved block type
        "br": b"\xff" * rng.randrange(4, 32),
    }[encoding]
    return "POST", path, {"Content-Encoding": encoding}, damaged


def oversized(rng: random.Random) -> Request:
    path = rng.choice([*ROUTES, "/mistral/v1/chat/completions", "/v1/ocr"])
    size = int(MAX_BODY_MB * 1024 * 1024) + rng.randrange(1, 200_000)
    body = as_json({**GOOD.get(path, GOOD[ROUTES[0]]), "padding": "p" * size})
    return "POST", path, {}, body


def no_key(rng: random.Random) -> Request:
    path = route(rng)
    return (
        "POST",
        path,
        {"Authorization": rng.choice(["", "Basic dXNlcg==", "Bearer", "Token abc"])},
        as_json(GOOD[path]),
    )


def unknown_route(rng: random.Random) -> Request:
    words = ["v1", "v2", "chat", "completion", "embedding", "admin", "..", "%00", "models", "files"]
    path = "/" + "/".join(rng.choice(words) for _ in range(rng.randrange(1, 5)))
    # Dot segments are resolved before routing, and every route is also served without /v1.
    resolved = posixpath.normpath(path)
    if resolved.startswith(("/v1/models", "/models", "/mistral/")):
        path = "/v0" + resolved
    return rng.choice(["GET", "POST"]), path, {}, b""


def wrong_method(rng: random.Random) -> Request:
    posts = [*ROUTES, "/v1/ocr"]
    method, path = rng.choice(
        [
            (rng.choice(["GET", "PUT", "PATCH", "DELETE"]), rng.choice(posts)),
            (rng.choice(["POST", "PUT", "DELETE"]), rng.choice(["/v1/models", "/v1/models/x", "/health"])),
        ]
    )
    return method, path, {}, b""


def climbing_path(rng: random.Random) -> Request:
    climb = rng.choice(["..%2F", "%2e%2e/", "..%2f", "%2E%2E%2F", "a%5C..%5C"])
    path = "/mistral/v1/" + climb * rng.randrange(1, 5) + rng.choice(["admin", "etc/passwd", "v1/models"])
    if rng.random() < 0.5:
        path = "/v1/models/" + climb * rng.randrange(1, 4) + "x"
    return "GET", path, {}, b""


CATEGORIES: dict[str, Callable[[random.Random], Request]] = {
    "broken JSON": broken_json,
    "not an object": not_an_object,
    "wrong OpenAI type": wrong_openai_type,
    "wrong Mistral type": wrong_mistral_type,
    "junk messages": junk_messages,
    "nested too deep": too_deep,
    "not Unicode": not_unicode,
    "wrong media type": wrong_media_type,
    "bad Content-Encoding": bad_encoding,
    "oversized": oversized,
    "missing key": no_key,
    "unknown route": unknown_route,
    "wrong method": wrong_method,
    "climbing path": climbing_path,
}


def test_300_random_malformed_requests_get_no_5xx(mock_url: str) -> None:
    rng = random.Random(SEED)
    statuses: Counter[int] = Counter()
    categories: Counter[str] = Counter()
    with (
        keen_shim(mock_url, max_body_mb=MAX_BODY_MB) as shim,
        httpx.Client(base_url=shim.url, timeout=30) as http,
        OpenAI(base_url=f"{shim.url}/v1", api_key=KEY, max_retries=0, timeout=30) as sdk,
    ):
        for number in range(REQUESTS):
            name = rng.choice(list(CATEGORIES))
            method, path, headers, body = CATEGORIES[name](rng)
            sent = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", **headers}
            sent = {k: v for k, v in sent.items() if v}
            response = http.request(method, path, content=body, headers=sent)
            where = f"request {number} ({name}): {method} {path[:80]} {body[:120]!r}"
            assert 400 <= response.status_code < 500, (
                f"{where} -> {response.status_code} {response.text[:300]}"
            )
            assert response.headers["content-type"].startswith("application/json"), where
            if path.startswith("/mistral/") or path == "/v1/ocr":  # Mistral's own routes: its envelope
                error = response.json()
                assert set(error) == {"object", "message", "type", "param", "code"}, where
            else:
                error = response.json()["error"]
                assert set(error) == {"message", "type", "param", "code"}, where
            assert error["message"], where
            assert response.headers["x-request-id"], where
            statuses[response.status_code] += 1
            categories[name] += 1
            if number % 50 == 49:  # the shim keeps serving in between
                assert sdk.chat.completions.create(**CHAT).choices[0].message.content
        assert sdk.chat.completions.create(**CHAT).choices[0].message.content
    print(f"\n{REQUESTS} malformed requests: statuses {dict(sorted(statuses.items()))}")
    print(f"categories {dict(sorted(categories.items()))}")
    assert len(categories) == len(CATEGORIES)  # the seed reached every category


@pytest.mark.parametrize("name", CATEGORIES)
def test_each_category_alone_is_refused(mock_url: str, name: str) -> None:
    """Ten of each category, so a category the mixed run drew rarely is still tried."""
    rng = random.Random(f"{SEED}-{name}")
    with (
        keen_shim(mock_url, max_body_mb=MAX_BODY_MB) as shim,
        httpx.Client(base_url=shim.url, timeout=30) as http,
    ):
        for _ in range(10):
            method, path, headers, body = CATEGORIES[name](rng)
            sent = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", **headers}
            response = http.request(method, path, content=body, headers={k: v for k, v in sent.items() if v})
            assert 400 <= response.status_code < 500, (method, path[:80], body[:120], response.text[:300])
