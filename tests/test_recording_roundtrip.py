"""Record through the mock in front of a synthetic upstream, stop the upstream, replay: same answers.

Covers chat, tools, SSE (events and timing), FIM, embeddings, OCR, models and errors, plus the recording
format itself (readable JSON, decoded bodies, allow-listed headers).
"""

import base64
import gzip
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from aiohttp import web

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.serving import ServerThread

KEY = "client-key-0123456789"
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def _png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


INTERACTIONS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    (
        "chat",
        "POST",
        "/v1/chat/completions",
        {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]},
    ),
    (
        "tools",
        "POST",
        "/v1/chat/completions",
        {
            "model": "mistral-small-latest",
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [WEATHER],
        },
    ),
    (
        "sse",
        "POST",
        "/v1/chat/completions",
        {
            "model": "mistral-small-latest",
            "messages": [{"role": "user", "content": "Hello"}],
            "stream": True,
            "max_tokens": 12,
        },
    ),
    (
        "fim",
        "POST",
        "/v1/fim/completions",
        {"model": "codestral-latest", "prompt": "def f(x):", "suffix": "  return y"},
    ),
    (
        "fim-sse",
        "POST",
        "/v1/fim/completions",
        {"model": "codestral-latest", "prompt": "def f(x):", "stream": True, "max_tokens": 8},
    ),
    ("embeddings", "POST", "/v1/embeddings", {"model": "mistral-embed", "input": ["one", "two"]}),
    (
        "ocr",
        "POST",
        "/v1/ocr",
        {"model": "mistral-ocr-latest", "document": {"type": "image_url", "image_url": _png()}},
    ),
    ("models", "GET", "/v1/models", None),
    ("model", "GET", "/v1/models/mistral-small-latest", None),
    (
        "error-400",
        "POST",
        "/v1/chat/completions",
        {"model": "nope", "messages": [{"role": "user", "content": "Hi"}]},
    ),
    (
        "error-422",
        "POST",
        "/v1/chat/completions",
        {"model": "mistral-small-latest", "messages": [], "seed": 3},
    ),
]


def send(
    client: httpx.Client, method: str, path: str, body: dict[str, Any] | None
) -> tuple[int, dict[str, str], bytes]:
    response = client.request(method, path, json=body) if body is not None else client.request(method, path)
    return response.status_code, dict(response.headers), response.content


@pytest.fixture(scope="module")
def recorded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, tuple[int, dict[str, str], bytes]]]]:
    """Every interaction sent through a recorder in front of a synthetic upstream (20 ms between events)."""
    folder = tmp_path_factory.mktemp("roundtrip") / "recordings"
    with ServerThread(lambda: create_app(MockConfig(chunk_ms=20))) as upstream:
        config = MockConfig(mode="record", upstream=upstream, recordings=folder)
        with (
            ServerThread(lambda: create_app(config)) as recorder,
            httpx.Client(base_url=recorder, headers=HEADERS) as client,
        ):
            answers = {name: send(client, method, path, body) for name, method, path, body in INTERACTIONS}
    yield folder, answers


def test_replay_with_the_upstream_gone_gives_identical_answers(recorded: Any) -> None:
    folder, originals = recorded
    config = MockConfig(mode="replay", recordings=folder, speed=0)
    with (
        ServerThread(lambda: create_app(config)) as replayer,
        httpx.Client(base_url=replayer, headers=HEADERS) as client,
    ):
        for name, method, path, body in INTERACTIONS:
            status, headers, content = send(client, method, path, body)
            original = originals[name]
            assert status == original[0], name
            assert content == original[2], name
            for header in ("content-type", "mistral-correlation-id", "x-ratelimit-remaining-tokens-minute"):
                assert headers.get(header) == original[1].get(header), (name, header)


def test_statuses_cover_answers_and_errors(recorded: Any) -> None:
    _, originals = recorded
    assert {name: answer[0] for name, answer in originals.items()} == {
        **{name: 200 for name, *_ in INTERACTIONS},
        "error-400": 400,
        "error-422": 422,
    }


def test_replayed_events_keep_their_recorded_timing(recorded: Any) -> None:
    folder, _ = recorded
    (recording_file,) = (folder / "chat").glob("chat-hello-*.json")
    offsets = [event["at_ms"] for event in json.loads(recording_file.read_text())["response"]["events"]]
    assert offsets[-1] >= 20 * (len(offsets) - 2), "the upstream spaced events 20 ms apart"
    config = MockConfig(mode="replay", recordings=folder, speed=1)
    body = INTERACTIONS[2][3]
    with ServerThread(lambda: create_app(config)) as replayer:
        arrivals = []
        with httpx.stream("POST", f"{replayer}/v1/chat/completions", json=body, headers=HEADERS) as response:
            started = time.monotonic()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    arrivals.append((time.monotonic() - started) * 1000)
    assert len(arrivals) == len(offsets)
    # No event arrives before its recorded offset (minus what the request took to reach the handler).
    assert all(arrived >= offset - 15 for arrived, offset in zip(arrivals, offsets, strict=True))


def test_the_recording_format_is_readable(recorded: Any) -> None:
    folder, _ = recorded
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))
    assert len(names) == len(INTERACTIONS)
    assert {name.split("/")[0] for name in names} == {"chat", "fim", "embeddings", "ocr", "models"}
    (chat_file,) = [
        p for p in (folder / "chat").glob("chat-hi-*.json") if re.fullmatch(r"chat-hi-[0-9a-f]{8}", p.stem)
    ]
    text = chat_file.read_text()
    assert text.startswith('{\n  "request": {\n')
    data = json.loads(text)
    assert data["request"]["body"] == INTERACTIONS[0][3]
    assert data["response"]["body"]["object"] == "chat.completion"
    assert set(data["request"]["headers"]) <= {"content-type", "accept"}
    assert "authorization" not in {h.lower() for h in data["response"]["headers"]}
    assert data["meta"]["upstream"].startswith("http://127.0.0.1:")
    assert data["meta"]["format"] == 1 and "recorded_at" in data["meta"]
    error_files = [p.name for p in (folder / "chat").glob("*-400-*.json")]
    assert error_files, "error recordings name their status"


def _gzip_upstream() -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        payload = {"id": "x", "object": "list", "data": [], "note": "Comté ⚾"}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return web.Response(
            body=gzip.compress(body), headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def test_compressed_bodies_are_stored_decoded(tmp_path: Path) -> None:
    with ServerThread(_gzip_upstream) as upstream:
        config = MockConfig(mode="record", upstream=upstream, recordings=tmp_path)
        with ServerThread(lambda: create_app(config)) as recorder:
            response = httpx.get(f"{recorder}/v1/models", headers=HEADERS)
    assert response.json()["note"] == "Comté ⚾"
    (saved,) = tmp_path.rglob("*.json")
    assert json.loads(saved.read_text())["response"]["body"]["note"] == "Comté ⚾"
    assert "Comté ⚾" in saved.read_text(encoding="utf-8"), "raw UTF-8, not escaped"
