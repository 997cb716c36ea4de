"""The cassette reader: every dialect and body variant on miniature cassettes, then the real corpus.

The miniatures are written here, by hand, to ``tmp_path``. The real recordings stay where they are
(``../shared/real-traffic``, read-only); nothing from them is copied or converted into the project, and
those tests skip when the folder is absent.
"""

import base64
import gzip
import json
import re
import textwrap
from collections import Counter
from pathlib import Path
from string import Template

import brotli
import pytest

from mockserver.recording.cassettes import (
    CassetteError,
    Interaction,
    iter_cassette_files,
    load_cassette,
)
from testkit.paths import REAL_TRAFFIC

# Measured on the corpus's 169 YAML cassettes: 304 Mistral interactions (313 in all). A small margin lets
# a file or two be dropped from the corpus without making this test meaningless.
MIN_MISTRAL_INTERACTIONS = 300

CHAT = "https://api.mistral.ai/v1/chat/completions"
COMPLETION = (
    '{"id":"e9459fcd56c742e0875167c9926c6aae","created":1757759489,"model":"mistral-tiny",'
    '"usage":{"prompt_tokens":11,"total_tokens":107,"completion_tokens":96},"object":"chat.completion",'
    '"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","tool_calls":null,'
    '"content":"Un Comté affiné 🧀"}}]}'
)
COMPLETION_KEYS = ["id", "created", "model", "usage", "object", "choices"]
SSE = (
    'data: {"id":"6dc3","object":"chat.completion.chunk","created":1757759492,"model":"mistral-tiny",'
    '"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
    'data: {"id":"6dc3","object":"chat.completion.chunk","created":1757759492,"model":"mistral-tiny",'
    '"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}],'
    '"usage":{"prompt_tokens":5,"total_tokens":6,"completion_tokens":1},"p":"abc"}\n\n'
    "data: [DONE]\n\n"
)


def write(tmp_path: Path, name: str, template: str, **values: str) -> Path:
    """Dedent a YAML template, then fill ``$names`` (braces in JSON stay literal)."""
    path = tmp_path / name
    path.write_text(Template(textwrap.dedent(template)).substitute(values), encoding="utf-8")
    return path


def b64_block(data: bytes, indent: int) -> str:
    """Base64 wrapped like vcrpy writes ``!!binary |`` blocks; the first line carries no indent."""
    text = base64.b64encode(data).decode()
    lines = [text[i : i + 76] for i in range(0, len(text), 76)]
    return ("\n" + " " * indent).join(lines)


def sse_block(text: str, indent: int) -> str:
    """An SSE body as the lines of a ``|+`` literal block; the template's own line break ends it."""
    lines = text.removesuffix("\n").split("\n")
    return "\n".join((" " * indent + line) if line else "" for line in lines).lstrip()


def only(interactions: list[Interaction]) -> Interaction:
    assert len(interactions) == 1
    return interactions[0]


# --- vcrpy -------------------------------------------------------------------------------------------

VCRPY_PLAIN = """\
interactions:
- request:
    body: '{"model":"mistral-tiny","messages":[{"content":"Fromage ?","role":"user"}],"stream":false}'
    headers:
      Accept:
      - application/json
      Content-Type:
      - application/json
      X-Twice:
      - first
      - second
    method: post
    uri: https://api.mistral.ai/v1/chat/completions?trace=1&b=2
  response:
    body:
      string: '$completion'
    headers:
      Content-Type:
      - application/json
      Date:
      - Sat, 13 Sep 2025 10:31:30 GMT
    status:
      code: 200
      message: OK
- request:
    body: null
    headers: {}
    method: GET
    uri: https://httpbin.org/image/png
  response:
    body:
      string: 'not mistral'
    headers:
      Content-Type:
      - text/plain
    status:
      code: 200
      message: OK
version: 1
"""


def test_vcrpy_plain_string_bodies(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.yaml", VCRPY_PLAIN, completion=COMPLETION)
    found = only(load_cassette(path))

    request = found.request
    assert request.method == "POST"
    assert request.url == "https://api.mistral.ai/v1/chat/completions?trace=1&b=2"
    assert request.path == "/v1/chat/completions"
    assert request.query == "trace=1&b=2"
    assert request.headers == {
        "accept": "application/json",
        "content-type": "application/json",
        "x-twice": "first",
    }
    assert list(request.body) == ["model", "messages", "stream"]
    assert request.body["messages"] == [{"content": "Fromage ?", "role": "user"}]
    assert request.raw_body == (
        b'{"model":"mistral-tiny","messages":[{"content":"Fromage ?","role":"user"}],"stream":false}'
    )

    response = found.response
    assert response.status == 200
    assert list(response.body) == COMPLETION_KEYS
    assert list(response.body["usage"]) == ["prompt_tokens", "total_tokens", "completion_tokens"]
    assert response.body["choices"][0]["message"]["content"] == "Un Comté affiné 🧀"
    assert response.raw_body == COMPLETION.encode()
    assert response.events is None
    assert found.source == f"{path}#0"
    assert found.recorded_at == "2025-09-13T10:31:30+00:00"


def test_non_mistral_interactions_are_filtered_unless_asked_for(tmp_path: Path) -> None:
    path = write(tmp_path, "plain.yaml", VCRPY_PLAIN, completion=COMPLETION)
    everything = load_cassette(path, mistral_only=False)

    assert [i.request.url for i in everything] == [
        "https://api.mistral.ai/v1/chat/completions?trace=1&b=2",
        "https://httpbin.org/image/png",
    ]
    other = everything[1]
    assert other.source == f"{path}#1"
    assert other.request.body is None and other.request.raw_body is None
    assert other.response.body is None and other.response.raw_body == b"not mistral"
    assert other.recorded_at is None


VCRPY_COMPRESSED = """\
interactions:
- request:
    body: '{"model":"mistral-embed","input":["a"]}'
    headers:
      content-type:
      - application/json
    method: POST
    uri: https://api.mistral.ai/v1/embeddings
  response:
    body:
      string: !!binary |
        $blob
    headers:
      Content-Encoding:
      - $encoding
      Content-Type:
      - application/json
    status:
      code: 200
      message: OK
version: 1
"""


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", lambda data: gzip.compress(data, mtime=0)), ("br", brotli.compress)],
)
def test_vcrpy_binary_compressed_body_is_decoded(tmp_path: Path, encoding: str, compress) -> None:
    blob = b64_block(compress(COMPLETION.encode()), indent=8)
    path = write(tmp_path, f"{encoding}.yaml", VCRPY_COMPRESSED, blob=blob, encoding=encoding)
    response = only(load_cassette(path)).response

    assert response.headers["content-encoding"] == encoding
    assert response.raw_body == COMPLETION.encode()
    assert list(response.body) == COMPLETION_KEYS
    assert response.body["choices"][0]["message"]["content"] == "Un Comté affiné 🧀"
    assert list(only(load_cassette(path)).request.body) == ["model", "input"]


def test_body_already_stored_decoded_is_kept(tmp_path: Path) -> None:
    """A recorder that saved the decoded text but kept ``Content-Encoding: gzip``."""
    template = VCRPY_COMPRESSED.replace("!!binary |\n        $blob", "'$blob'")
    path = write(tmp_path, "decoded.yaml", template, blob='{"object":"list","data":[]}', encoding="gzip")
    response = only(load_cassette(path)).response

    assert response.raw_body == b'{"object":"list","data":[]}'
    assert response.body == {"object": "list", "data": []}


VCRPY_SSE = """\
interactions:
- request:
    body: !!binary |
      $request
    headers:
      Content-Type:
      - application/json
    method: POST
    uri: https://api.mistral.ai/v1/chat/completions
  response:
    body:
      string: |+
        $events
    headers:
      Content-Type:
      - text/event-stream; charset=utf-8
    status:
      code: 200
      message: OK
version: 1
"""


def test_sse_body_is_split_into_events(tmp_path: Path) -> None:
    request = b'{"stream":true,"model":"mistral-tiny","messages":[]}'
    path = write(
        tmp_path,
        "sse.yaml",
        VCRPY_SSE,
        request=b64_block(request, indent=6),
        events=sse_block(SSE, indent=8),
    )
    found = only(load_cassette(path))

    assert found.request.raw_body == request
    assert list(found.request.body) == ["stream", "model", "messages"]
    response = found.response
    assert response.body is None
    assert response.raw_body == SSE.encode()
    assert response.events is not None
    assert len(response.events) == 3
    assert response.events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    last = response.events[1]
    assert list(last) == ["id", "object", "created", "model", "choices", "usage", "p"]
    assert last["usage"] == {"prompt_tokens": 5, "total_tokens": 6, "completion_tokens": 1}
    assert response.events[2] == "[DONE]"


def test_sse_multiline_data_and_missing_final_blank_line(tmp_path: Path) -> None:
    body = 'data: {"a":\ndata: 1}\n\n: comment only\n\ndata: {"b":2}\n\ndata: [DONE]'
    path = write(tmp_path, "sse2.yaml", VCRPY_SSE, request="e30=", events=sse_block(body, indent=8))
    response = only(load_cassette(path)).response

    assert response.events == [{"a": 1}, {"b": 2}, "[DONE]"]


def test_sse_event_that_is_not_json_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "bad-sse.yaml", VCRPY_SSE, request="e30=", events="data: {oops\n")
    with pytest.raises(CassetteError, match=r"bad-sse\.yaml.*not JSON"):
        load_cassette(path)


# --- pydantic-ai ---------------------------------------------------------------------------------------

PYDANTIC_AI = """\
interactions:
- request:
    headers:
      content-type:
      - application/json
      host:
      - api.mistral.ai
    method: POST
    parsed_body:
      messages:
      - content: Bonjour
        role: user
      model: ministral-8b-latest
      stream: false
    uri: https://api.mistral.ai/v1/chat/completions
  response:
    headers:
      content-type:
      - application/json
    parsed_body:
      choices:
      - finish_reason: stop
        index: 0
        message:
          content: Salut é
          role: assistant
          tool_calls: null
      id: 59bee455a928496eb22bbf8b8b817252
      object: chat.completion
      usage:
        completion_tokens: 2
        prompt_tokens: 5
        total_tokens: 7
    status:
      code: 200
      message: OK
- request:
    headers:
      content-type:
      - application/json
    method: POST
    parsed_body:
      model: magistral-medium-latest
      stream: true
    uri: https://api.mistral.ai/v1/chat/completions#stream
  response:
    body:
      string: |+
        $events
    headers:
      content-type:
      - text/event-stream; charset=utf-8
    status:
      code: 200
      message: OK
version: 1
"""


def test_pydantic_ai_parsed_body(tmp_path: Path) -> None:
    path = write(tmp_path, "pai.yaml", PYDANTIC_AI, events=sse_block(SSE, indent=8))
    plain, streamed = load_cassette(path)

    assert plain.request.body == {
        "messages": [{"content": "Bonjour", "role": "user"}],
        "model": "ministral-8b-latest",
        "stream": False,
    }
    assert plain.request.raw_body is None
    assert list(plain.response.body) == ["choices", "id", "object", "usage"]
    assert plain.response.raw_body == (
        b'{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"Salut \xc3\xa9",'
        b'"role":"assistant","tool_calls":null}}],"id":"59bee455a928496eb22bbf8b8b817252",'
        b'"object":"chat.completion","usage":{"completion_tokens":2,"prompt_tokens":5,"total_tokens":7}}'
    )
    assert json.loads(plain.response.raw_body) == plain.response.body
    assert plain.recorded_at is None

    assert streamed.request.path == "/v1/chat/completions"
    assert streamed.request.url.endswith("#stream")
    assert streamed.request.raw_body is None
    assert streamed.response.events is not None
    assert streamed.response.events[-1] == "[DONE]"
    assert streamed.response.raw_body == SSE.encode()


# --- Ruby VCR ----------------------------------------------------------------------------------------

RUBY_VCR = """\
---
http_interactions:
- request:
    method: post
    uri: https://api.mistral.ai/v1/chat/completions
    body:
      encoding: UTF-8
      string: '{"model":"mistral-small-latest","messages":[{"role":"user","content":"Météo ?"}]}'
    headers: !ruby/hash:Faraday::Utils::Headers
      User-Agent:
      - Faraday v2.14.3
      Authorization:
      - Bearer <MISTRAL_API_KEY>
      Content-Type:
      - application/json
  response:
    status:
      code: 200
      message: OK
    headers:
      Date:
      - Wed, 19 Aug 2026 14:34:22 GMT
      Content-Type:
      - application/json; charset=utf-8
    body:
      encoding: ASCII-8BIT
      string: !binary |-
        $binary
  recorded_at: Wed, 19 Aug 2026 14:34:23 GMT
- request:
    method: get
    uri: https://api.mistral.ai/v1/models
    body:
      encoding: US-ASCII
      string: ''
    headers:
      Accept:
      - "*/*"
  response:
    status:
      code: 200
      message: !ruby/string:Net::HTTPMessage OK
    headers:
      Content-Type:
      - application/json
    body:
      encoding: ASCII-8BIT
      base64_string: |
        $base64
  recorded_at: Wed, 19 Aug 2026 14:35:00 GMT
recorded_with: VCR 6.4.0
"""


def test_ruby_vcr_binary_and_base64_string(tmp_path: Path) -> None:
    models = '{"object":"list","data":[{"id":"mistral-small-latest","object":"model"}]}'
    path = write(
        tmp_path,
        "ruby.yml",
        RUBY_VCR,
        binary=b64_block(COMPLETION.encode(), indent=8),
        base64=b64_block(models.encode(), indent=8),
    )
    chat, listing = load_cassette(path)

    assert chat.request.method == "POST"
    assert chat.request.headers["authorization"] == "Bearer <MISTRAL_API_KEY>"
    assert list(chat.request.body) == ["model", "messages"]
    assert chat.request.body["messages"][0]["content"] == "Météo ?"
    assert chat.response.raw_body == COMPLETION.encode()
    assert list(chat.response.body) == COMPLETION_KEYS
    assert chat.recorded_at == "2026-08-19T14:34:23+00:00"

    assert listing.request.method == "GET"
    assert listing.request.raw_body == b""
    assert listing.request.body is None
    assert listing.response.raw_body == models.encode()
    assert listing.response.body == {
        "object": "list",
        "data": [{"id": "mistral-small-latest", "object": "model"}],
    }
    assert listing.source == f"{path}#1"


# --- malformed files ----------------------------------------------------------------------------------

MALFORMED = {
    "not-yaml": "interactions: [unclosed\n",
    "empty": "",
    "unknown-format": "episodes: []\n",
    "not-a-list": "interactions: {request: 1}\n",
    "no-response": "interactions:\n- request: {method: GET, uri: 'https://api.mistral.ai/v1/models'}\n",
    "no-uri": "interactions:\n- request: {method: GET}\n  response: {status: {code: 200}}\n",
    "bad-status": (
        "interactions:\n- request: {method: GET, uri: 'https://api.mistral.ai/v1/models'}\n"
        "  response: {status: {code: soon}, body: {string: ''}}\n"
    ),
    "bad-base64": (
        "http_interactions:\n- request: {method: get, uri: 'https://api.mistral.ai/v1/models'}\n"
        "  response: {status: {code: 200}, body: {base64_string: '@@@'}}\n"
    ),
    "bad-binary": "http_interactions:\n- request: !binary '@@@'\n",
    "body-shape": (
        "interactions:\n- request: {method: GET, uri: 'https://api.mistral.ai/v1/models'}\n"
        "  response: {status: {code: 200}, body: {text: '{}'}}\n"
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_cassette_raises_cassette_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(MALFORMED[name], encoding="utf-8")
    with pytest.raises(CassetteError) as caught:
        load_cassette(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_iter_cassette_files_finds_yaml_and_yml_sorted(tmp_path: Path) -> None:
    for name in ["b/two.yml", "a/one.yaml", "c.yaml", "notes.md", "d/x.json"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("interactions: []\n")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_cassette_files(tmp_path)]
    assert found == ["a/one.yaml", "b/two.yml", "c.yaml"]


# --- the real corpus ----------------------------------------------------------------------------------

needs_corpus = pytest.mark.skipif(
    not REAL_TRAFFIC.is_dir(),
    reason=f"real recordings not present at {REAL_TRAFFIC} (../shared is outside this repo)",
)

ID_SEGMENT = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})$")
REAL_LOOKING_KEY = re.compile(r"(?:Bearer\s+)?[A-Za-z0-9]{24,}")


def endpoint(interaction: Interaction) -> str:
    path = "/".join("{id}" if ID_SEGMENT.match(s) else s for s in interaction.request.path.split("/"))
    kind = " [stream]" if interaction.response.events is not None else ""
    return f"{interaction.request.method} {path}{kind}"


@needs_corpus
def test_every_real_cassette_loads(corpus: dict[Path, list[Interaction]]) -> None:
    assert len(corpus) > 100
    empty = [path.name for path, interactions in corpus.items() if not interactions]
    assert not empty


@needs_corpus
def test_real_corpus_mistral_interaction_counts(mistral_corpus: dict[Path, list[Interaction]]) -> None:
    found = [i for interactions in mistral_corpus.values() for i in interactions]
    by_endpoint = Counter(endpoint(i) for i in found)
    by_status = Counter(i.response.status for i in found)
    by_source = Counter(
        path.relative_to(REAL_TRAFFIC).parts[0]
        for path, interactions in mistral_corpus.items()
        for _ in interactions
    )
    print(f"\n{len(found)} Mistral interactions in {len(mistral_corpus)} cassettes")
    for name, count in sorted(by_endpoint.items()):
        print(f"  {count:4d}  {name}")
    print("  by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
    print("  by source: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_source.items())))

    assert len(found) >= MIN_MISTRAL_INTERACTIONS
    assert all(i.response.body is not None or i.response.events is not None for i in found)


@needs_corpus
def test_real_streamed_chats_end_with_usage_and_done(mistral_corpus: dict[Path, list[Interaction]]) -> None:
    streams = [
        (i.source, i.response.events)
        for interactions in mistral_corpus.values()
        for i in interactions
        if i.request.path.endswith("/chat/completions") and i.response.status == 200 and i.response.events
    ]
    assert len(streams) >= 40
    for source, events in streams:
        assert events[-1] == "[DONE]", source
        last = next(e for e in reversed(events) if e != "[DONE]")
        assert "usage" in last, source


@needs_corpus
def test_real_authorization_headers_are_placeholders(corpus: dict[Path, list[Interaction]]) -> None:
    values = {
        i.request.headers["authorization"]
        for interactions in corpus.values()
        for i in interactions
        if "authorization" in i.request.headers
    }
    assert values, "expected some recorded authorization headers"
    assert not [v for v in values if REAL_LOOKING_KEY.fullmatch(v)]
