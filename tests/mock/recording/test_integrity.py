"""What a recorder writes stays inside its folder and holds no key, whatever path or body a client sends.

File names are made from the request (the endpoint, a few words of the prompt, a hash), so a request is
a way to name a file: ``..``, slashes (raw and percent-encoded), NUL, backslashes, overlong names and
non-ASCII all arrive here through a real socket, unnormalised, and the test then looks at the filesystem.
"""

import json
import re
from pathlib import Path

import httpx2 as httpx
from aiohttp import web

from mockserver.app import create_app
from mockserver.recording.store import RecordingStore
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.bodies import BODIES
from testkit.rawhttp import raw_request
from testkit.secrets import assert_no_secrets

CLIENT_KEY = "CLIENT-key-7d6c5b4a3e2f"
UPSTREAM_KEY = "UPSTREAM-key-2f3e4a5b6c7d"
ESCAPING_PATHS = [
    "/v1/../../../../escape",
    "/v1/%2e%2e/%2e%2e/%2e%2e/escape",
    "/..%2f..%2f..%2fescape",
    "/v1/models/..",
    "/v1/models/%2e%2e%2f%2e%2e%2fescape",
    "/v1/models/..%5c..%5cescape",
    "/v1/a%00b/%00",
    "/v1/a\\..\\..\\escape",
    "//escape/passwd",
    "/v1/models/%c0%ae%c0%ae%2fescape",
    "/v1/models/.hidden",
    "/v1/models/CON",
    "/v1/" + "a" * 4000,
    "/v1/models/" + "%2e%2e%2f" * 400,
    "/v1/%C3%BCn%C3%AFc%C3%B8d%C3%A9/%F0%9F%92%A5",
    f"/v1/models/{CLIENT_KEY}?q={UPSTREAM_KEY}&api_key={CLIENT_KEY}",
]
ESCAPING_PROMPTS = [
    "../../../../escape",
    "/etc/passwd",
    "..\\..\\escape",
    "a\x00b/../c",
    "x" * 5000,
    ".",
    "..",
    "CON",
    f"my key is {CLIENT_KEY}",
]
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*(\.\d+)?\.json$")
SAFE_FOLDER = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _echo_upstream() -> web.Application:
    """An upstream that answers 200 to anything, saying which key it was given."""

    async def answer(request: web.Request) -> web.Response:
        body = {"object": "list", "data": [], "authorized": request.headers.get("Authorization") is not None}
        return web.json_response(body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def _send(url: str, method: str, target: str, body: bytes = b"") -> int:
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {CLIENT_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return raw_request(url, head.encode(), body)[0]


def test_no_request_writes_outside_the_recordings_folder(tmp_path: Path) -> None:
    box = tmp_path / "box"
    recordings = box / "recordings"
    with ServerThread(_echo_upstream) as upstream:
        config = MockSettings(
            mode="record", upstream=upstream, recordings=recordings, upstream_key=UPSTREAM_KEY
        )
        with ServerThread(lambda: create_app(config)) as recorder:
            statuses = [_send(recorder, "GET", target) for target in ESCAPING_PATHS]
            for text in ESCAPING_PROMPTS:
                chat = {"model": "m", "messages": [{"role": "user", "content": text}]}
                statuses.append(_send(recorder, "POST", "/v1/chat/completions", json.dumps(chat).encode()))
                fim = {"model": "m", "prompt": text}
                statuses.append(_send(recorder, "POST", "/v1/fim/completions", json.dumps(fim).encode()))
                document = {
                    "type": "document_url",
                    "document_url": f"https://x/{text}",
                    "document_name": text,
                }
                ocr = json.dumps({"model": "m", "document": document}).encode()
                statuses.append(_send(recorder, "POST", "/v1/ocr", ocr))
    assert statuses == [200] * len(statuses), "every request reached the upstream and was answered"
    # Nothing next to the folder, nothing above it.
    assert [p.name for p in tmp_path.iterdir()] == ["box"]
    assert [p.name for p in box.iterdir()] == ["recordings"]
    files = [p for p in recordings.rglob("*") if p.is_file()]
    assert len(files) == len(statuses), "one recording per request"
    for path in files:
        relative = path.relative_to(recordings)
        assert path.resolve().is_relative_to(recordings.resolve()), path
        assert len(relative.parts) == 2, relative
        assert SAFE_FOLDER.match(relative.parts[0]) and SAFE_NAME.match(relative.parts[1]), relative
        assert len(relative.parts[1].encode()) <= 120, relative
        json.loads(path.read_text(encoding="utf-8"))
    assert_no_secrets(recordings, CLIENT_KEY, UPSTREAM_KEY)
    assert RecordingStore(recordings).load() == len(statuses)


def test_a_proxied_answer_carries_an_id_even_from_an_upstream_that_sends_none(tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {CLIENT_KEY}"}
    with ServerThread(_echo_upstream) as bare, ServerThread(lambda: create_app(MockSettings())) as mistral:
        for name, upstream in (("bare", bare), ("mistral", mistral)):
            folder = tmp_path / name
            config = MockSettings(mode="record", upstream=upstream, recordings=folder)
            with ServerThread(lambda: create_app(config)) as recorder:  # noqa: B023
                answer = httpx.get(f"{recorder}/v1/models", headers=auth)
            assert answer.status_code == 200
            correlation = answer.headers["mistral-correlation-id"]
            assert answer.headers["x-kong-request-id"] == correlation
            (saved,) = folder.rglob("*.json")
            recorded = json.loads(saved.read_text())["response"]["headers"].get("mistral-correlation-id")
            # The upstream's own id when it sends one (it is what the recording keeps), else the mock's.
            assert recorded == (correlation if name == "mistral" else None)
    assert_no_secrets(tmp_path, CLIENT_KEY)


def test_bad_bodies_are_recorded_and_replayed_like_any_other(tmp_path: Path) -> None:
    """Deep nesting, invalid UTF-8, a lone surrogate, non-JSON: the recorder saves the upstream's refusal,
    and a replay finds it again for the same bytes (never a 500 on the way)."""
    cases = [(name, content, content_type) for name, content, content_type, *_ in BODIES]
    headers = {"Authorization": f"Bearer {CLIENT_KEY}"}

    def send(url: str, content: bytes, content_type: str | None) -> httpx.Response:
        return httpx.post(
            f"{url}/v1/chat/completions",
            content=content,
            headers={**headers, "Content-Type": content_type or ""},
        )

    with ServerThread(lambda: create_app(MockSettings())) as upstream:
        config = MockSettings(mode="record", upstream=upstream, recordings=tmp_path)
        with ServerThread(lambda: create_app(config)) as recorder:
            recorded = {name: send(recorder, content, kind) for name, content, kind in cases}
    assert all(400 <= answer.status_code < 500 for answer in recorded.values()), recorded
    assert len(list(tmp_path.rglob("*.json"))) == len(cases)
    with ServerThread(
        lambda: create_app(MockSettings(mode="replay", recordings=tmp_path, speed=0))
    ) as replayer:
        for name, content, kind in cases:
            again = send(replayer, content, kind)
            assert (again.status_code, again.content) == (
                recorded[name].status_code,
                recorded[name].content,
            ), name
    assert_no_secrets(tmp_path, CLIENT_KEY)
