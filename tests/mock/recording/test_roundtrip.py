"""Record through the mock in front of a synthetic upstream, stop the upstream, replay: same answers.

Covers chat, tools, SSE (events and timing), FIM, embeddings, OCR, models, Responses (named SSE events) and
errors, plus the recording format itself (readable JSON, decoded bodies, allow-listed headers).
"""

import asyncio
import gzip
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from aiohttp import web

from mockserver.app import create_app
from mockserver.recording.format import Body, Event, Recording
from mockserver.recording.store import RecordingStore
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.scenarios import INTERACTIONS, RECORDING_HEADERS, RECORDING_KEY, send
from testkit.secrets import assert_no_secrets


def test_replay_with_the_upstream_gone_gives_identical_answers(recorded: Any) -> None:
    folder, originals = recorded
    config = MockSettings(mode="replay", recordings=folder, speed=0)
    with (
        ServerThread(lambda: create_app(config)) as replayer,
        httpx.Client(base_url=replayer, headers=RECORDING_HEADERS) as client,
    ):
        for name, method, path, body in INTERACTIONS:
            status, headers, content = send(client, method, path, body)
            original = originals[name]
            assert status == original[0], name
            assert content == original[2], name
            for header in ("content-type", "mistral-correlation-id", "x-ratelimit-remaining-tokens-minute"):
                assert headers.get(header) == original[1].get(header), (name, header)


def test_no_recording_holds_the_client_key(recorded: Any) -> None:
    folder, _ = recorded
    assert assert_no_secrets(folder, RECORDING_KEY) > 0


def test_statuses_cover_answers_and_errors(recorded: Any) -> None:
    _, originals = recorded
    assert {name: answer[0] for name, answer in originals.items()} == {
        **{name: 200 for name, *_ in INTERACTIONS},
        "error-400": 400,
        "error-422": 422,
    }


def _arrivals(url: str, body: dict[str, Any]) -> list[float]:
    """When each SSE event arrived, in milliseconds from sending the request."""
    arrivals = []
    started = time.monotonic()
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, headers=RECORDING_HEADERS) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append((time.monotonic() - started) * 1000)
    return arrivals


def assert_on_schedule(arrivals: list[float], due: list[float]) -> None:
    """Never early, and no drift: lateness at the end of the stream is about what it was at the start.

    Relative checks only: a loaded machine delays events, but cannot make them early or make the delay of
    one event pile onto the next (deadlines are absolute).
    """
    assert len(arrivals) == len(due)
    # The offsets count from when the request reached the server, after it was sent: nothing is early (1 ms
    # for clock rounding).
    assert all(arrived >= at - 1 for arrived, at in zip(arrivals, due, strict=True))
    late = [arrived - at for arrived, at in zip(arrivals, due, strict=True)]
    quarter = max(1, len(late) // 4)
    first, last = sorted(late[:quarter]), sorted(late[-quarter:])
    assert last[len(last) // 2] - first[len(first) // 2] < 25, "lateness grows along the stream"


def test_replayed_events_keep_their_recorded_timing(recorded: Any) -> None:
    folder, _ = recorded
    (recording_file,) = (folder / "chat").glob("chat-hello-*.json")
    offsets = [event["at_ms"] for event in json.loads(recording_file.read_text())["response"]["events"]]
    assert offsets[-1] >= 20 * (len(offsets) - 2), "the upstream spaced events 20 ms apart"
    config = MockSettings(mode="replay", recordings=folder, speed=1)
    with ServerThread(lambda: create_app(config)) as replayer:
        assert_on_schedule(_arrivals(replayer, INTERACTIONS[2][3]), offsets)


def _long_stream(folder: Path, events: int, gap_ms: float) -> dict[str, Any]:
    """A recording of ``events`` chunks ``gap_ms`` apart, written with the store; returns its request."""
    request = {
        "model": "mistral-small-latest",
        "messages": [{"role": "user", "content": "Long"}],
        "stream": True,
    }
    chunk = {"id": "0" * 32, "object": "chat.completion.chunk", "created": 1, "model": "mistral-small-latest"}
    data = [
        Body(value={**chunk, "choices": [{"index": 0, "delta": {"content": f" {n}"}}]}) for n in range(events)
    ]
    RecordingStore(folder).save(
        Recording(
            method="POST",
            path="/v1/chat/completions",
            query="",
            request_headers={"content-type": "application/json"},
            request_body=Body(value=request),
            status=200,
            response_headers={"content-type": "text/event-stream; charset=utf-8"},
            events=(
                *(Event(n * gap_ms, d) for n, d in enumerate(data)),
                Event(events * gap_ms, Body("[DONE]")),
            ),
        )
    )
    return request


def test_a_long_replay_does_not_drift(tmp_path: Path) -> None:
    request = _long_stream(tmp_path, 300, 4.0)
    with ServerThread(lambda: create_app(MockSettings(mode="replay", recordings=tmp_path, speed=1))) as url:
        assert_on_schedule(_arrivals(url, request), [n * 4.0 for n in range(301)])


def test_speed_scales_the_recorded_offsets(tmp_path: Path) -> None:
    request = _long_stream(tmp_path, 40, 15.0)
    offsets = [n * 15.0 for n in range(41)]
    spans = {}
    for speed in (1.0, 3.0):
        config = MockSettings(mode="replay", recordings=tmp_path, speed=speed)
        with ServerThread(lambda: create_app(config)) as url:  # noqa: B023
            arrivals = _arrivals(url, request)
        assert_on_schedule(arrivals, [offset / speed for offset in offsets])
        spans[speed] = arrivals[-1] - arrivals[0]
    # Three times as fast: about a third of the time (a generous band, relative to the same machine's run).
    assert 0.2 < spans[3.0] / spans[1.0] < 0.5, spans
    with ServerThread(lambda: create_app(MockSettings(mode="replay", recordings=tmp_path, speed=0))) as url:
        at_once = _arrivals(url, request)
    assert at_once[-1] - at_once[0] < spans[3.0] / 2, "speed 0 sends everything at once"


def test_the_recording_format_is_readable(recorded: Any) -> None:
    folder, _ = recorded
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))
    assert len(names) == len(INTERACTIONS)
    assert {name.split("/")[0] for name in names} == {
        "chat",
        "fim",
        "embeddings",
        "ocr",
        "models",
        "responses",
        "responses-input-tokens",
    }
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
        config = MockSettings(mode="record", upstream=upstream, recordings=tmp_path)
        with ServerThread(lambda: create_app(config)) as recorder:
            response = httpx.get(f"{recorder}/v1/models", headers=RECORDING_HEADERS)
    assert response.json()["note"] == "Comté ⚾"
    (saved,) = tmp_path.rglob("*.json")
    assert_no_secrets(tmp_path, RECORDING_KEY)
    assert json.loads(saved.read_text())["response"]["body"]["note"] == "Comté ⚾"
    assert "Comté ⚾" in saved.read_text(encoding="utf-8"), "raw UTF-8, not escaped"


def _brotli_upstream() -> web.Application:
    import brotli

    async def answer(request: web.Request) -> web.Response:
        payload = {"object": "list", "data": [], "note": "Comté ⚾ brotli"}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return web.Response(
            body=brotli.compress(body), headers={"Content-Type": "application/json", "Content-Encoding": "br"}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def test_brotli_bodies_are_stored_decoded(tmp_path: Path) -> None:
    with ServerThread(_brotli_upstream) as upstream:
        config = MockSettings(mode="record", upstream=upstream, recordings=tmp_path)
        with ServerThread(lambda: create_app(config)) as recorder:
            response = httpx.get(f"{recorder}/v1/models", headers=RECORDING_HEADERS)
    assert response.json()["note"] == "Comté ⚾ brotli"
    assert "content-encoding" not in response.headers, "the client gets the decoded body"
    (saved,) = tmp_path.rglob("*.json")
    assert_no_secrets(tmp_path, RECORDING_KEY)
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["response"]["body"] == {"object": "list", "data": [], "note": "Comté ⚾ brotli"}
    assert "content-encoding" not in {h.lower() for h in data["response"]["headers"]}


class Gate:
    """An upstream that sends one SSE event, then holds the second until the client says it got the first."""

    def __init__(self) -> None:
        self.client_saw_first = threading.Event()
        self.released_by_client: bool | None = None
        self.authorization: str | None = None
        self.fault: str | None = None

    def app(self) -> web.Application:
        async def stream(request: web.Request) -> web.StreamResponse:
            self.authorization = request.headers.get("Authorization")
            self.fault = request.headers.get("x-mock-fault")
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
            await response.prepare(request)
            await response.write(b'data: {"n":1}\n\n')
            loop = asyncio.get_running_loop()
            # If the recorder buffered the stream, the client could not see event 1 now: this waits in vain.
            self.released_by_client = await loop.run_in_executor(None, self.client_saw_first.wait, 10)
            await response.write(b'data: {"n":2}\n\ndata: [DONE]\n\n')
            await response.write_eof()
            return response

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", stream)
        return app


def test_the_recorder_streams_each_event_as_the_upstream_sends_it(tmp_path: Path) -> None:
    gate = Gate()
    with ServerThread(gate.app) as upstream:
        config = MockSettings(mode="record", upstream=upstream, recordings=tmp_path)
        with (
            ServerThread(lambda: create_app(config)) as recorder,
            httpx.stream(
                "POST", f"{recorder}/v1/chat/completions", json={"stream": True}, headers=RECORDING_HEADERS
            ) as response,
        ):
            events = []
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(line[6:])
                    gate.client_saw_first.set()
    assert events == ['{"n":1}', '{"n":2}', "[DONE]"]
    assert gate.released_by_client is True, "event 1 reached the client only after the upstream sent event 2"
    (saved,) = tmp_path.rglob("*.json")
    assert_no_secrets(tmp_path, RECORDING_KEY)
    recorded = json.loads(saved.read_text())["response"]["events"]
    assert [e["data"] for e in recorded] == [{"n": 1}, {"n": 2}, "[DONE]"]
    assert recorded[1]["at_ms"] >= recorded[0]["at_ms"], "each event keeps the moment it arrived"


def test_record_mode_answers_a_forced_status_itself_and_forwards_stream_faults(tmp_path: Path) -> None:
    """A forced status is the mock's own answer in every mode: recording against Mistral, the test gets
    the 503 it asked for (Mistral would ignore the header) and nothing is spent or saved. The stream
    faults are the upstream's to apply, and are forwarded."""
    gate = Gate()
    gate.client_saw_first.set()
    with ServerThread(gate.app) as upstream:
        config = MockSettings(mode="record", upstream=upstream, recordings=tmp_path)
        with ServerThread(lambda: create_app(config)) as recorder:
            forced = httpx.post(
                f"{recorder}/v1/chat/completions",
                json={"stream": True},
                headers={**RECORDING_HEADERS, "x-mock-fault": "status=503;latency_ms=1"},
            )
            assert forced.status_code == 503, "the recorder did not answer the forced status itself"
            assert gate.fault is None, "the upstream was asked for an answer the test forced"
            paced = httpx.post(
                f"{recorder}/v1/chat/completions",
                json={"stream": True},
                headers={**RECORDING_HEADERS, "x-mock-fault": "chunk_ms=1"},
            )
    assert paced.status_code == 200
    assert gate.fault == "chunk_ms=1"
    assert list(tmp_path.rglob("*.json")) == [], "an answer sent with x-mock-fault is not saved"
    assert_no_secrets(tmp_path, RECORDING_KEY)


def test_mistral_api_key_from_the_environment_goes_upstream_and_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mockserver.cli import _parser, settings_from_args

    secret = "env-secret-5b1e7c9d3a"
    monkeypatch.setenv("MISTRAL_API_KEY", secret)
    gate = Gate()
    gate.client_saw_first.set()
    with ServerThread(gate.app) as upstream:
        args = ["serve", "--mode", "record", "--upstream", upstream, "--recordings", str(tmp_path)]
        config = settings_from_args(_parser().parse_args(args))
        with ServerThread(lambda: create_app(config)) as recorder:
            body = {"stream": True, "note": f"the key is {secret}"}
            assert (
                httpx.post(
                    f"{recorder}/v1/chat/completions", json=body, headers=RECORDING_HEADERS
                ).status_code
                == 200
            )
    assert gate.authorization == f"Bearer {secret}", "the environment's key, not the client's, goes upstream"
    assert assert_no_secrets(tmp_path, secret, RECORDING_KEY) > 0
