"""Bad input to the shim: every malformed request gets a clear 4xx in OpenAI's error format, never a 500.

Wrong media types, JSON nested past the limit, huge strings, text that is not Unicode, a wrong type in
every field of the three translated routes (OpenAI's fields from the shim's type tables, Mistral's own
from its contract models), oversized and undecodable bodies, and HTTP that does not parse. Each test
ends with a good request answered, so a refusal never leaves the server worse off.
"""

import asyncio
import gzip
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from openai import OpenAI
from pydantic import BaseModel, ValidationError

from mistral_wire.contract.requests import ChatCompletionRequest, EmbeddingRequest
from mistral_wire.settings import SettingsError as ConfigError
from shim.settings import MAX_JSON_DEPTH, ShimSettings
from shim.translate import completions, embeddings
from shim.translate.chat import request as params
from testkit.auth import AUTH, KEY
from testkit.errors import assert_mistral_error, assert_openai_error
from testkit.paths import ROOT
from testkit.processes import run_cli, shim_process
from testkit.spec import component_schemas, openai_spec
from testkit.upstream import Received, Upstream, reply
from testkit.wire import CHAT, MISTRAL_ANSWER


def passes_through(path: str) -> bool:
    """Mistral's own routes, where the shim refuses in Mistral's shape."""
    return path.startswith("/mistral/") or path == "/v1/ocr"


def refusal(path: str) -> Callable[..., dict]:
    """The assertion for a refusal on ``path``: OpenAI's error, or Mistral's on the pass-through."""
    return assert_mistral_error if passes_through(path) else assert_openai_error


def kinds(rows: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each field's OpenAI types, as its translation row declares them."""
    return {name: row.kinds for name, row in rows.items()}


GOOD = {
    "/v1/chat/completions": {**CHAT, "max_tokens": 3},
    "/v1/completions": {"model": "mistral-small-latest", "prompt": "Once", "max_tokens": 3},
    "/v1/embeddings": {"model": "mistral-embed", "input": "hello"},
}
ROUTES = list(GOOD)


def still_serving(url: str) -> None:
    """A good request after the bad ones: the server is up and answering."""
    answer = OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=30).chat.completions.create(
        **CHAT
    )
    assert answer.choices[0].message.content


def post(
    url: str, path: str, content: bytes, content_type: str | None = "application/json"
) -> httpx.Response:
    headers = {**AUTH, **({"Content-Type": content_type} if content_type is not None else {})}
    return httpx.post(f"{url}{path}", content=content, headers=headers, timeout=60)


# --- media types


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (None, 200),  # no type at all is read as JSON, as Mistral's API does
        ("application/json", 200),
        ("Application/JSON; charset=utf-8", 200),
        ("application/vnd.api+json", 200),
        ("text/plain", 415),
        ("text/json", 415),
        ("multipart/form-data; boundary=xyz", 415),
        ("application/x-www-form-urlencoded", 415),
        (";;;", 415),
    ],
)
@pytest.mark.parametrize("path", ROUTES)
def test_a_body_must_be_declared_as_json_or_not_declared(
    shim_url: str, no_tracebacks: None, path: str, content_type: str | None, status: int
) -> None:
    response = post(shim_url, path, json.dumps(GOOD[path]).encode(), content_type)
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        error = assert_openai_error(response, 415, "unsupported_media_type")
        assert "application/json" in error["message"]


# --- nesting


def nested(levels: int, kind: str) -> str:
    """JSON text of ``levels`` nested arrays or objects."""
    if kind == "array":
        return "[" * levels + "1" + "]" * levels
    return '{"a":' * levels + "1" + "}" * levels


def deep_body(path: str, depth: int, kind: str) -> bytes:
    """A body of ``path`` whose whole nesting (the top object counts as one level) is ``depth``, inside
    a field of the type OpenAI gives it (``metadata`` an object, ``prompt`` and ``input`` arrays)."""
    field = {"/v1/chat/completions": "metadata", "/v1/completions": "prompt", "/v1/embeddings": "input"}[path]
    good = json.dumps({k: v for k, v in GOOD[path].items() if k != field})
    inner = nested(depth - 2, kind)
    value = '{"deep": ' + inner + "}" if field == "metadata" else "[" + inner + "]"
    return (good[:-1] + f', "{field}": ' + value + "}").encode()


@pytest.mark.parametrize("depth", [129, 1000, 1024, 1025, 5000, 100_000])
@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("path", ROUTES)
def test_json_nested_past_the_limit_is_a_400(
    shim_url: str, no_tracebacks: None, path: str, kind: str, depth: int
) -> None:
    error = assert_openai_error(post(shim_url, path, deep_body(path, depth, kind)), 400, "json_too_deep")
    assert "128 levels" in error["message"] and "--max-json-depth" in error["message"]


def test_the_depth_limit_is_exact_and_configurable(
    start_shim: Callable[..., str], echo_upstream: Upstream, no_tracebacks: None
) -> None:
    default = start_shim(upstream=echo_upstream.url)
    path = "/v1/chat/completions"
    assert post(default, path, deep_body(path, 128, "object")).status_code == 200
    assert_openai_error(post(default, path, deep_body(path, 129, "object")), 400, "json_too_deep")
    # The largest limit allowed: a body that deep is translated and sent, never a 500.
    deepest = start_shim(upstream=echo_upstream.url, max_json_depth=MAX_JSON_DEPTH)
    for kind in ("array", "object"):
        body = deep_body(path, MAX_JSON_DEPTH, kind)
        assert post(deepest, path, body).status_code == 200
        assert echo_upstream.received[-1].json["metadata"] == json.loads(body)["metadata"]  # type: ignore[index]
        assert_openai_error(
            post(deepest, path, deep_body(path, MAX_JSON_DEPTH + 1, kind)), 400, "json_too_deep"
        )
    strict = start_shim(upstream=echo_upstream.url, max_json_depth=4)
    assert post(strict, path, json.dumps(CHAT).encode()).status_code == 200  # depth 3
    error = assert_openai_error(post(strict, path, deep_body(path, 5, "array")), 400, "json_too_deep")
    assert "4 levels" in error["message"]
    still_serving(strict)


@pytest.mark.parametrize("depth", [0, -1, MAX_JSON_DEPTH + 1])
def test_a_depth_limit_out_of_range_is_refused(depth: int) -> None:
    with pytest.raises(ConfigError, match="max_json_depth"):
        ShimSettings(max_json_depth=depth).check()
    result = run_cli(["serve", "--max-json-depth", str(depth)])
    assert result.returncode == 2 and "max_json_depth must be between" in result.stderr


# --- huge strings and text that is not Unicode


def test_a_20_mb_string_is_carried_whole(
    start_shim: Callable[..., str], echo_upstream: Upstream, no_tracebacks: None
) -> None:
    shim = start_shim(upstream=echo_upstream.url)
    text = "naïve 🦜 " * 2_500_000  # 20 MB of UTF-8
    response = httpx.post(
        f"{shim}/v1/chat/completions",
        json={**CHAT, "messages": [{"role": "user", "content": text}]},
        headers=AUTH,
        timeout=60,
    )
    assert response.status_code == 200
    assert echo_upstream.received[-1].json["messages"][0]["content"] == text


@pytest.mark.parametrize("path", ROUTES)
def test_a_huge_string_in_the_wrong_place_is_refused_without_being_echoed(
    shim_url: str, no_tracebacks: None, path: str
) -> None:
    huge = "9" * 10_000_000
    number = "dimensions" if path == "/v1/embeddings" else "n"
    for body in ({**GOOD[path], number: huge}, {**GOOD[path], "model": 1, "user": huge}, [huge]):
        response = post(shim_url, path, json.dumps(body).encode())
        assert 400 <= response.status_code < 500, response.text[:300]
        assert len(response.content) < 4096  # the refusal names the problem, it does not repeat the input
    still_serving(shim_url)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (b'"\\ud800"', "invalid_unicode"),  # an unpaired high surrogate, as an escape
        (b'"x\\udfff y"', "invalid_unicode"),  # an unpaired low surrogate
        (b'"\\udc00\\ud800"', "invalid_unicode"),  # a pair in the wrong order
        (b'"\xed\xa0\x80"', "invalid_unicode"),  # a surrogate as (invalid) UTF-8 bytes
        (b'"\xff\xfe"', "invalid_json"),  # bytes that are not UTF-8 at all
        (b'"\xc0\xaf"', "invalid_json"),  # an overlong encoding of '/'
        (b'"\xe2\x82"', "invalid_json"),  # a character cut short
    ],
    ids=["lone-high", "lone-low", "reversed-pair", "surrogate-bytes", "not-utf8", "overlong", "truncated"],
)
@pytest.mark.parametrize("path", ROUTES)
def test_text_that_is_not_unicode_is_a_400(
    shim_url: str, no_tracebacks: None, path: str, text: bytes, code: str
) -> None:
    field = {"/v1/chat/completions": "model", "/v1/completions": "prompt", "/v1/embeddings": "input"}[path]
    body = json.dumps({k: v for k, v in GOOD[path].items() if k != field}).encode()
    error = assert_openai_error(
        post(shim_url, path, body[:-1] + f', "{field}": '.encode() + text + b"}"), 400, code
    )
    if code == "invalid_unicode":
        assert "surrogate" in error["message"]


def test_a_proper_surrogate_pair_is_one_character(
    start_shim: Callable[..., str], echo_upstream: Upstream
) -> None:
    shim = start_shim(upstream=echo_upstream.url)
    body = b'{"model": "mistral-small-latest", "messages": [{"role": "user", "content": "\\ud83e\\udd9c"}]}'
    assert post(shim, "/v1/chat/completions", body).status_code == 200
    assert echo_upstream.received[-1].json["messages"][0]["content"] == "🦜"


def test_an_upstream_answer_with_a_lone_surrogate_is_relayed_not_a_500(
    start_shim: Callable[..., str], no_tracebacks: None
) -> None:
    """The other direction: Mistral's answers are not the client's fault, so they are passed on as sent."""
    raw = json.dumps(MISTRAL_ANSWER).replace("Hello!", "Hello \\ud800!").encode()

    async def answer(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reply(writer, 200, raw)

    with Upstream(answer) as upstream:
        shim = start_shim(upstream=upstream.url)
        response = httpx.post(f"{shim}/v1/chat/completions", json=CHAT, headers=AUTH)
        assert response.status_code == 200
        assert response.json()["choices"][0]["message"]["content"] == "Hello \ud800!"


# --- a wrong type in every field

SAMPLES: dict[str, Any] = {
    "string": "a string",
    "integer": 7,
    "number": 0.5,
    "boolean": True,
    "object": {"an": "object"},
    "array": ["an", "array"],
}
TYPE_TABLES = {
    "/v1/chat/completions": kinds(params.FIELDS),
    "/v1/completions": kinds(completions.FIELDS),
    "/v1/embeddings": kinds(embeddings.FIELDS),
}
OPENAI_FIELDS = [(path, name) for path, table in TYPE_TABLES.items() for name in table]


def wrong_values(kinds: tuple[str, ...]) -> list[Any]:
    accepted = set(kinds) | ({"integer"} if "number" in kinds else set())
    return [value for kind, value in SAMPLES.items() if kind not in accepted]


@pytest.mark.parametrize(("path", "name"), OPENAI_FIELDS, ids=[f"{p[4:]}:{n}" for p, n in OPENAI_FIELDS])
def test_a_wrong_type_in_any_openai_field_is_a_400_naming_it(
    shim_url: str, no_tracebacks: None, path: str, name: str
) -> None:
    kinds = TYPE_TABLES[path][name]
    with httpx.Client(base_url=shim_url, headers=AUTH, timeout=30) as http:
        for value in wrong_values(kinds):
            for stream in (False, True):
                body = {
                    **GOOD[path],
                    name: value,
                    **({"stream": True} if stream and name != "stream" else {}),
                }
                error = assert_openai_error(http.post(path, json=body), 400, "invalid_type")
                assert error["param"] == name
                assert error["message"].startswith(f"Invalid type for '{name}': expected ")


@pytest.mark.parametrize(
    "value", [1, 0, "true", "yes", "1", 1.0, [True], {"on": True}], ids=lambda v: f"stream={v!r}"
)
@pytest.mark.parametrize("path", ROUTES[:2])
def test_a_stream_flag_that_is_not_a_boolean_is_refused_not_guessed(
    shim_url: str, no_tracebacks: None, path: str, value: Any
) -> None:
    """Mistral's pydantic models would read ``"true"`` or ``1`` as true and stream; OpenAI refuses them."""
    response = httpx.post(f"{shim_url}{path}", json={**GOOD[path], "stream": value}, headers=AUTH)
    assert assert_openai_error(response, 400, "invalid_type")["param"] == "stream"


MISTRAL_MODELS: dict[str, tuple[type[BaseModel], frozenset[str]]] = {
    "/v1/chat/completions": (ChatCompletionRequest, params.MISTRAL_ONLY),
    "/v1/completions": (ChatCompletionRequest, completions.MISTRAL_ONLY["chat"]),
    "/v1/embeddings": (EmbeddingRequest, embeddings.MISTRAL_ONLY),
}
CANDIDATES: list[Any] = [{"wrong": ["type"]}, [{"wrong": 1}], "not a valid value", 12345.5, -3, True]


def refused_value(model: type[BaseModel], good: dict[str, Any], name: str) -> Any:
    """A value Mistral's contract model refuses for ``name`` (the first candidate it does not take)."""
    for value in CANDIDATES:
        try:
            model.model_validate({**good, name: value})
        except ValidationError as exc:
            if any(error["loc"][:1] == (name,) for error in exc.errors()):
                return value
    return None


MISTRAL_FIELDS = sorted((path, name) for path, (_, names) in MISTRAL_MODELS.items() for name in names)


@pytest.mark.parametrize(("path", "name"), MISTRAL_FIELDS, ids=[f"{p[4:]}:{n}" for p, n in MISTRAL_FIELDS])
def test_a_wrong_type_in_a_mistral_field_is_mistrals_400_naming_it(
    shim_url: str, no_tracebacks: None, path: str, name: str
) -> None:
    """Mistral's own fields (sent through ``extra_body``) are Mistral's to check: its 422 reaches the
    client as OpenAI's 400, naming the field."""
    model, _ = MISTRAL_MODELS[path]
    mistral_good = {"model": "mistral-small-latest", "messages": CHAT["messages"]}
    if path == "/v1/embeddings":
        mistral_good = {"model": "mistral-embed", "input": "hello"}
    value = refused_value(model, mistral_good, name)
    if value is None:
        pytest.skip(f"Mistral's model takes any value for {name}")
    response = httpx.post(f"{shim_url}{path}", json={**GOOD[path], name: value}, headers=AUTH)
    error = assert_openai_error(response, 400)
    assert (error["param"] or "").split(".")[0].split("[")[0] == name, error


def openai_kinds(schema: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    """The JSON types a property of OpenAI's spec allows, ``null`` left out."""
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    kinds = set()
    declared = schema.get("type")
    if declared:
        kinds |= set(declared if isinstance(declared, list) else [declared])
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            kinds |= openai_kinds(option, schemas)
    return kinds - {"null"}


def openai_properties(name: str, schemas: dict[str, Any]) -> dict[str, Any]:
    schema = schemas[name]
    found: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        if "$ref" in part:
            found.update(openai_properties(part["$ref"].rsplit("/", 1)[-1], schemas))
        else:
            found.update(part.get("properties", {}))
    found.update(schema.get("properties", {}))
    return found


@pytest.mark.parametrize(
    ("table", "schema_name", "rows"),
    [
        (kinds(params.FIELDS), "CreateChatCompletionRequest", params.FIELDS),
        (kinds(completions.FIELDS), "CreateCompletionRequest", completions.FIELDS),
        (kinds(embeddings.FIELDS), "CreateEmbeddingRequest", embeddings.FIELDS),
    ],
    ids=["chat", "completions", "embeddings"],
)
def test_the_type_tables_are_openais_spec(table: dict, schema_name: str, rows: dict) -> None:
    """Every field of the parameter table has its type, and each type is the one OpenAI's spec gives."""
    assert set(table) == set(rows)
    schemas = component_schemas(openai_spec())
    spec = openai_properties(schema_name, schemas)
    assert set(table) == set(spec)
    wrong = {name: (table[name], openai_kinds(spec[name], schemas)) for name in table}
    assert {k: v for k, v in wrong.items() if set(v[0]) != v[1]} == {}


# --- size and encoding of the body


def raw_exchange(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes; the one response they get (read by its length, or to the close without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        lengths = [line for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")]
        if not lengths:
            while chunk := sock.recv(65536):
                body += chunk
            return head + b"\r\n\r\n" + body
        length = int(lengths[0].split(b":")[1])
        while len(body) < length and (chunk := sock.recv(65536)):
            body += chunk
        return head + b"\r\n\r\n" + body


@pytest.mark.parametrize("path", [*ROUTES, "/mistral/v1/chat/completions", "/v1/ocr"])
def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    start_shim: Callable[..., str], no_tracebacks: None, path: str
) -> None:
    shim = start_shim(max_body_mb=1)
    port = int(shim.rsplit(":", 1)[1])
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
    )
    answer = raw_exchange(port, head.encode() + b'{"model": ')  # 1 GiB announced, 10 bytes sent
    status, _, rest = answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 413"), answer[:300]
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    error = body if passes_through(path) else body["error"]  # Mistral's envelope on the pass-through
    assert error["code"] == "request_too_large"
    assert "1048576 bytes" in error["message"] and "--max-body-mb" in error["message"]
    still_serving(shim)


def test_a_chunked_body_over_the_limit_is_a_413(start_shim: Callable[..., str], no_tracebacks: None) -> None:
    shim = start_shim(max_body_mb=1)

    def chunks() -> Any:
        for _ in range(40):
            yield b" " * 65536  # 2.5 MiB of whitespace, no length announced

    for path in ("/v1/chat/completions", "/mistral/v1/chat/completions"):
        response = httpx.post(
            f"{shim}{path}", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
        )
        refusal(path)(response, 413, "request_too_large")
    still_serving(shim)


def test_the_body_limit_through_the_cli(mock_url: str, tmp_path: Path) -> None:
    with shim_process(["--upstream", mock_url, "--max-body-mb", "0.5"], tmp_path) as shim:
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 600_000}]}
        response = httpx.post(f"{shim.url}/v1/chat/completions", json=big, headers=AUTH)
        error = assert_openai_error(response, 413, "request_too_large")
        assert "524288 bytes (0.5 MB, set with --max-body-mb)" in error["message"]
        still_serving(shim.url)


def test_the_readme_documents_the_shims_limits() -> None:
    shim_section = (ROOT / "README.md").read_text().split("## The offline Mistral")[0]
    for text in ("--max-body-mb", "413", "--max-json-depth", "415", "--client-timeout", "408"):
        assert text in shim_section, text


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_body_that_does_not_decompress_is_a_400(shim_url: str, no_tracebacks: None, encoding: str) -> None:
    headers = {**AUTH, "Content-Type": "application/json", "Content-Encoding": encoding}
    for path in ("/v1/chat/completions", "/mistral/v1/chat/completions"):
        response = httpx.post(f"{shim_url}{path}", content=b"this is not compressed", headers=headers)
        error = refusal(path)(response, 400, "invalid_body_encoding")
        assert encoding in error["message"]
    good = gzip.compress(json.dumps(CHAT).encode())
    response = httpx.post(
        f"{shim_url}/v1/chat/completions", content=good, headers={**headers, "Content-Encoding": "gzip"}
    )
    assert response.status_code == 200


def test_a_compressed_body_is_decoded_once_for_the_pass_through_too(
    start_shim: Callable[..., str], echo_upstream: Upstream
) -> None:
    """aiohttp decompresses the body; the pass-through sends it on plain, without the header that would
    make Mistral decompress it a second time."""
    shim = start_shim(upstream=echo_upstream.url)
    plain = json.dumps({"model": "mistral-ocr-latest", "document": {"type": "document_url"}}).encode()
    headers = {**AUTH, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert (
        httpx.post(f"{shim}/mistral/v1/ocr", content=gzip.compress(plain), headers=headers).status_code == 200
    )
    seen = echo_upstream.received[-1]
    assert seen.body == plain and "content-encoding" not in seen.headers


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/mistral/v1/chat/completions"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_client_that_stops_sending_its_body_gets_a_408(
    start_shim: Callable[..., str], no_tracebacks: None, path: str, framing: str
) -> None:
    """``--client-timeout 0.3``: half a body, then silence, is answered 408 after 0.3 s, not held open."""
    shim = start_shim(client_timeout=0.3)
    port = int(shim.rsplit(":", 1)[1])
    framed = "Content-Length: 100\r\n" if framing == "length" else "Transfer-Encoding: chunked\r\n"
    start = b'{"model": "mistral-' if framing == "length" else b'13\r\n{"model": "mistral-\r\n'
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n{framed}\r\n"
    started = time.monotonic()
    answer = raw_exchange(port, head.encode() + start)
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert (body if passes_through(path) else body["error"])["code"] == "request_timeout"
    assert b"Connection: close" in answer.split(b"\r\n\r\n", 1)[0]
    assert 0.25 <= elapsed < 0.3 + 2.0, elapsed
    still_serving(shim)


def test_a_client_timeout_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="client_timeout"):
        ShimSettings(client_timeout=0).check()
    result = run_cli(["serve", "--client-timeout", "-1"])
    assert result.returncode == 2 and "client_timeout must be a positive number" in result.stderr


def test_a_key_with_bytes_that_are_not_utf8_is_a_401(
    start_shim: Callable[..., str], no_tracebacks: None
) -> None:
    shim = start_shim(mistral_api_key="sk-own", client_keys=frozenset({"team-key"}))
    port = int(shim.rsplit(":", 1)[1])
    for path in ("/v1/models", "/mistral/v1/models"):
        head = (
            f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfeé\r\nConnection: close\r\n\r\n"
        )
        answer = raw_exchange(port, head.encode("latin-1"))
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        assert b'"invalid_api_key"' in answer


# --- HTTP that does not parse

POST = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
MALFORMED_HTTP = {
    "bad-method": b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad-version": b"GET /v1/models HTTP/9.9\r\nHost: x\r\n\r\n",
    "not-http": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 a TLS hello to a plain port\r\n\r\n",
    "long-url": b"GET /v1/models/" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "long-header": b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n",
    "many-headers": b"GET /v1/models HTTP/1.1\r\n"
    + b"".join(b"X-%d: v\r\n" % i for i in range(200))
    + b"\r\n",
    "bad-length": POST + b"Content-Length: -5\r\n\r\n",
    "two-lengths": POST + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    "bad-chunk": POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "bad-transfer-encoding": POST + b"Transfer-Encoding: gzip\r\n\r\n{}",
    "non-ascii-path": "GET /v1/models/café HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "bad-expect": POST + b"Expect: teleport\r\nContent-Length: 2\r\n\r\n{}",
}


def test_http_that_does_not_parse_is_a_4xx_and_no_traceback(mock_url: str, tmp_path: Path) -> None:
    """aiohttp's parser refuses these before the shim's code runs (a plain-text 400, or 417 for an unknown
    Expect): the shim logs each as one line, not an error with a traceback, and keeps serving."""
    with shim_process(["--upstream", mock_url], tmp_path) as shim:
        port = int(shim.url.rsplit(":", 1)[1])
        for name, request in MALFORMED_HTTP.items():
            answer = raw_exchange(port, request)
            status = int(answer.split(b" ", 2)[1])
            assert 400 <= status < 500, (name, answer[:200])
        still_serving(shim.url)
        shim.stop()
    output = shim.output()
    assert "Traceback" not in output and "Error handling request" not in output
    # aiohttp answers an unknown Expect without complaint, and logs a first request that is not HTTP at all
    # (a TLS hello, a port scanner) only at DEBUG; every other refusal is one INFO line.
    quiet = {"bad-method", "not-http", "bad-expect"}
    assert output.count("refused a malformed HTTP request") == len(MALFORMED_HTTP) - len(quiet)
