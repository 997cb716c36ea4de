"""The recorder never writes a secret, never loses a recording and never leaves half a file behind."""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx2 as httpx
from aiohttp import web

from mockserver.app import create_app
from mockserver.recording.format import Recording
from mockserver.recording.store import RecordingStore
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.processes import child_env
from testkit.secrets import assert_no_secrets

UPSTREAM_KEY = "UPSTREAM-secret-key-4f9a8b7c6d"
CLIENT_KEY = "CLIENT-secret-key-1e2d3c4b5a"


def every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_no_secret_is_ever_written(tmp_path: Path) -> None:
    with ServerThread(lambda: create_app(MockSettings(api_keys=frozenset({UPSTREAM_KEY})))) as upstream:
        config = MockSettings(
            mode="record", upstream=upstream, recordings=tmp_path, upstream_key=UPSTREAM_KEY
        )
        with ServerThread(lambda: create_app(config)) as recorder:
            headers = {
                "Authorization": f"Bearer {CLIENT_KEY}",
                "x-api-key": CLIENT_KEY,
                "Cookie": f"s={CLIENT_KEY}",
            }
            leaky = {
                "model": "mistral-small-latest",
                "messages": [{"role": "user", "content": f"my keys are {UPSTREAM_KEY} and {CLIENT_KEY}"}],
                "metadata": {CLIENT_KEY: UPSTREAM_KEY},
            }
            assert (
                httpx.post(f"{recorder}/v1/chat/completions", json=leaky, headers=headers).status_code == 200
            )
            stream = {**leaky, "stream": True}
            assert (
                httpx.post(f"{recorder}/v1/chat/completions", json=stream, headers=headers).status_code == 200
            )
            query = f"{recorder}/v1/models?api_key={CLIENT_KEY}&token={UPSTREAM_KEY}&page=2"
            assert httpx.get(query, headers=headers).status_code == 200
    # Without an upstream key the client's bearer goes upstream, and is scrubbed all the same.
    with ServerThread(lambda: create_app(MockSettings(api_keys=frozenset({CLIENT_KEY})))) as upstream:
        config = MockSettings(mode="record", upstream=upstream, recordings=tmp_path)
        with ServerThread(lambda: create_app(config)) as recorder:
            answer = httpx.post(
                f"{recorder}/v1/embeddings",
                json={"model": "mistral-embed", "input": CLIENT_KEY},
                headers=headers,
            )
            assert answer.status_code == 200
            refused = httpx.get(f"{recorder}/v1/models", headers={"Authorization": "Bearer wrong-key-000000"})
            assert refused.status_code == 401
    written = every_byte(tmp_path)
    # The refused key's 401 is a mistake of the setup, never saved (tests/mock/recording/test_refusals.py).
    assert len(list(tmp_path.rglob("*.json"))) == 4
    assert_no_secrets(tmp_path, UPSTREAM_KEY, CLIENT_KEY, "wrong-key-000000")
    assert b"<redacted>" in written
    assert b"page=2" in written, "harmless query parameters are kept"


async def _fire(url: str, bodies: list[dict], key: str = CLIENT_KEY) -> list[int]:
    """Send every body at once (no connection limit: all of them in flight together)."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {key}"}, connector=connector
    ) as session:

        async def one(body: dict) -> int:
            async with session.post(f"{url}/v1/chat/completions", json=body) as response:
                await response.read()
                return response.status

        return await asyncio.gather(*(one(b) for b in bodies))


def _question(i: int, leak: str = "") -> dict:
    return {
        "model": "mistral-small-latest",
        "messages": [{"role": "user", "content": f"Question number {i}{leak}"}],
    }


def _without_created(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "created"}


def test_concurrent_recordings_are_all_kept_whole(tmp_path: Path) -> None:
    bodies = [_question(i % 10) for i in range(100)]
    with ServerThread(lambda: create_app(MockSettings(latency_ms=5))) as upstream:
        # The synthetic upstream's answer is a function of the request (id, content, usage; not created), so
        # each question has one right answer to find in every file that recorded it.
        expected = {
            json.dumps(body): _without_created(
                httpx.post(
                    f"{upstream}/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"}
                ).json()
            )
            for body in bodies[:10]
        }
        assert len({answer["id"] for answer in expected.values()}) == 10, "ten different answers"
        config = MockSettings(mode="record", upstream=upstream, recordings=tmp_path)
        with ServerThread(lambda: create_app(config)) as recorder:
            statuses = asyncio.run(_fire(recorder, bodies))
    assert statuses == [200] * 100
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 100
    for path in files:
        data = json.loads(path.read_text())
        assert data["response"]["status"] == 200
        # Each file's answer is the answer to its own request, not to a neighbour's.
        request = data["request"]
        sent = request["body"] if "body" in request else json.loads(request["text"])
        own = expected[json.dumps(sent)]
        assert _without_created(data["response"]["body"]) == own, path.name
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    store = RecordingStore(tmp_path)
    assert store.load() == 100
    assert store.index.requests() == 10, "ten distinct requests, ten recordings each"
    assert_no_secrets(tmp_path, CLIENT_KEY)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _is_complete(path: Path) -> bool:
    """A whole recording of a whole answer: parseable, a 200 whose body ends with its usage."""
    recording = Recording.from_json(json.loads(path.read_text(encoding="utf-8")))
    body = recording.response_body.parsed() if recording.response_body else None
    return recording.status == 200 and isinstance(body, dict) and "total_tokens" in body.get("usage", {})


def _staggered_upstream() -> web.Application:
    """A synthetic upstream that answers question N after 3 x N ms, so 200 answers finish over 0.6 s."""

    @web.middleware
    async def stagger(request: web.Request, handler: Any) -> web.StreamResponse:
        text = (await request.text()) if request.can_read_body else ""
        number = re.search(r"Question number (\d+)", text)
        await asyncio.sleep(3 * int(number[1]) / 1000 if number else 0)
        return await handler(request)

    app = create_app(MockSettings(api_keys=frozenset({UPSTREAM_KEY})))
    app.middlewares.append(stagger)
    return app


def test_kill_9_mid_recording_leaves_only_complete_files_and_a_rerun_records_the_rest(tmp_path: Path) -> None:
    """200 concurrent recordings (the upstream key from MISTRAL_API_KEY, both keys in every prompt), the
    recorder killed with SIGKILL once half are on disk: what is on disk is whole, and a re-run in auto mode
    records exactly the missing ones."""
    bodies = [_question(i, f" ({CLIENT_KEY} / {UPSTREAM_KEY})") for i in range(200)]
    with ServerThread(_staggered_upstream) as upstream:
        port = _free_port()
        command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--mode", "record"]
        command += ["--upstream", upstream, "--recordings", str(tmp_path), "--log-level", "WARNING"]
        recorder = subprocess.Popen(command, env=child_env(MISTRAL_API_KEY=UPSTREAM_KEY))
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{url}/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)

            async def fire_and_kill() -> None:
                task = asyncio.ensure_future(_fire(url, bodies))
                while len(list(tmp_path.rglob("*.json"))) < 100:
                    await asyncio.sleep(0.005)
                os.kill(recorder.pid, signal.SIGKILL)
                await asyncio.gather(task, return_exceptions=True)

            asyncio.run(fire_and_kill())
        finally:
            recorder.kill()
            recorder.wait()
        survivors = list(tmp_path.rglob("*.json"))
        assert 100 <= len(survivors) < 200, "the kill landed in the middle of the run"
        assert all(_is_complete(path) for path in survivors), "every published file is complete"
        assert_no_secrets(tmp_path, CLIENT_KEY, UPSTREAM_KEY)
        store = RecordingStore(tmp_path)
        assert store.load() == len(survivors), "temporary files are not recordings"
        assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")], "load removes leftovers"

        config = MockSettings(mode="auto", upstream=upstream, recordings=tmp_path, upstream_key=UPSTREAM_KEY)
        with ServerThread(lambda: create_app(config)) as rerun:
            assert asyncio.run(_fire(rerun, bodies)) == [200] * 200
    recordings = list(tmp_path.rglob("*.json"))
    assert len(recordings) == 200, "the re-run recorded exactly the missing ones"
    assert all(_is_complete(path) for path in recordings)
    asked = [Recording.from_json(json.loads(p.read_text())).request_body.parsed() for p in recordings]
    assert len({body["messages"][0]["content"] for body in asked}) == 200, "each question recorded once"
    assert_no_secrets(tmp_path, CLIENT_KEY, UPSTREAM_KEY)


def test_a_recorder_starting_up_removes_what_a_killed_one_left(tmp_path: Path) -> None:
    chat = tmp_path / "chat"
    chat.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    stale = chat / f".chat-hi-0123abcd.{dead_pid}.9f8e7d6c.tmp"
    stale.write_text('{"request": {"method": "PO')  # half a recording, its writer gone (kill -9)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # A recorder sharing the folder is writing this one right now: it must survive.
        in_flight = chat / f".chat-hello-4567cdef.{live.pid}.0a1b2c3d.tmp"
        in_flight.write_text("{")
        with ServerThread(
            lambda: create_app(
                MockSettings(mode="record", upstream="http://127.0.0.1:9", recordings=tmp_path)
            )
        ):
            pass
        assert not stale.exists(), "the recorder's startup removed the dead writer's temporary file"
        assert in_flight.exists(), "a live writer's temporary file is left alone"
    finally:
        live.kill()
        live.wait()
    assert RecordingStore(tmp_path).clean() == 1, "once its writer is gone, it goes too"
    assert not list(tmp_path.rglob("*.tmp"))
