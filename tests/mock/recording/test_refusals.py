"""Record mode never saves a mistake of the setup, and says what it was; Mistral's own errors are saved.

A saved 401 (no key), 404 "no Route matched" (a ``/v1/v1`` URL) or 502 (no upstream) would be replayed
for as long as the file exists, after the cause was fixed. Errors a request provokes on purpose are
Mistral's answers: a 422 is saved and replayed, and a replayed error can name its file.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx2 as httpx
import openai
import pytest
from aiohttp import web
from openai import OpenAI

from mockserver.app import create_app
from mockserver.chain import Chain, switch
from mockserver.recording.store import RecordingStore
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from mockserver.sources import Problem
from mockserver.sources.fixtures import FixtureSource
from mockserver.sources.record import RecordSource
from testkit.auth import AUTH, KEY
from testkit.processes import free_port

BODY = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Say hello."}]}


def saved(folder: Path, expected: int = 0) -> list[Path]:
    """The recordings in ``folder``, waiting up to 5 s for ``expected`` (a file is written just after the
    answer went out)."""
    deadline = time.monotonic() + 5
    while len(found := sorted(folder.rglob("*.json"))) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def upstream(answer: Callable[[web.Request], Awaitable[web.Response]]) -> ServerThread:
    """An upstream on loopback that answers every method and path with ``answer``."""

    def make() -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", answer)
        return app

    return ServerThread(make)


@pytest.fixture
def forbidding() -> Iterator[str]:
    """An upstream that answers every request 403, as Mistral does for a key without access."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"message": "Forbidden: no access to this model"}, status=403)

    with upstream(refuse) as url:
        yield url


def test_a_401_is_not_saved_and_asks_for_the_key(start_mock: Callable[..., str], tmp_path: Path) -> None:
    upstream = start_mock(api_keys=frozenset({"the-real-key"}))
    recorder = start_mock(mode="record", upstream=upstream, recordings=tmp_path)
    answer = httpx.post(f"{recorder}/v1/chat/completions", json=BODY, headers=AUTH)
    assert (answer.status_code, answer.headers["x-mock-source"]) == (401, "refused")
    message = answer.json()["message"]
    assert message.startswith(
        "Recording refused: the upstream answered 401 (Unauthorized): is MISTRAL_API_KEY set?"
    )
    assert "It is not set here, so the client's own key was sent upstream." in message
    assert saved(tmp_path) == []
    keyed = start_mock(mode="record", upstream=upstream, recordings=tmp_path, upstream_key="the-real-key")
    assert httpx.post(f"{keyed}/v1/chat/completions", json=BODY, headers=AUTH).status_code == 200


def test_a_403_is_not_saved(start_mock: Callable[..., str], forbidding: str, tmp_path: Path) -> None:
    recorder = start_mock(mode="record", upstream=forbidding, recordings=tmp_path, upstream_key="k")
    answer = httpx.post(f"{recorder}/v1/chat/completions", json=BODY, headers=AUTH)
    assert answer.status_code == 403
    assert "the upstream answered 403 (Forbidden: no access to this model)" in answer.json()["message"]
    assert saved(tmp_path) == []


def test_a_v1_v1_path_is_not_saved_and_says_to_drop_the_v1(
    start_mock: Callable[..., str], mock_url: str, tmp_path: Path
) -> None:
    """Mistral's SDK given ``server_url=.../v1`` (LangChain's habit) asks for ``/v1/v1/...``."""
    recorder = start_mock(mode="record", upstream=mock_url, recordings=tmp_path)
    answer = httpx.post(f"{recorder}/v1/v1/chat/completions", json=BODY, headers=AUTH)
    assert answer.status_code == 404
    message = answer.json()["message"]
    assert f"404 'no Route matched' for {mock_url}/v1/v1/chat/completions" in message
    assert "…/v1/v1/… : drop the /v1 from the base URL the client was given" in message
    assert saved(tmp_path) == []


def test_a_refused_connection_is_not_saved(start_mock: Callable[..., str], tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    recorder = start_mock(mode="record", upstream=nowhere, recordings=tmp_path)
    answer = httpx.post(f"{recorder}/v1/chat/completions", json=BODY, headers=AUTH)
    assert answer.status_code == 502
    assert answer.json()["message"].startswith(
        f"Recording failed: the upstream {nowhere} could not be reached"
    )
    assert saved(tmp_path) == []


def test_an_upstream_given_with_v1_is_normalised(
    start_mock: Callable[..., str], mock_url: str, tmp_path: Path
) -> None:
    recorder = start_mock(mode="record", upstream=f"{mock_url}/v1/", recordings=tmp_path)
    assert httpx.post(f"{recorder}/v1/chat/completions", json=BODY, headers=AUTH).status_code == 200
    (recording,) = saved(tmp_path, 1)
    assert json.loads(recording.read_text())["meta"]["upstream"] == mock_url


def test_a_provoked_422_is_saved_replayed_and_names_its_file(
    start_mock: Callable[..., str], mock_url: str, tmp_path: Path
) -> None:
    bad = {**BODY, "messages": [{"role": "user", "content": "hi", "name": "bob"}]}
    recorder = start_mock(mode="record", upstream=mock_url, recordings=tmp_path)
    assert httpx.post(f"{recorder}/v1/chat/completions", json=bad, headers=AUTH).status_code == 422
    (recording,) = saved(tmp_path, 1)
    recorded = json.loads(recording.read_text())["response"]["body"]
    plain = start_mock(mode="replay", recordings=tmp_path, speed=0)
    as_recorded = httpx.post(f"{plain}/v1/chat/completions", json=bad, headers=AUTH)
    assert (as_recorded.status_code, as_recorded.json()) == (422, recorded), "replayed as recorded"
    named = start_mock(mode="replay", recordings=tmp_path, speed=0, name_replayed_errors=True)
    replayed = httpx.post(f"{named}/v1/chat/completions", json=bad, headers=AUTH)
    assert (replayed.status_code, replayed.headers["x-mock-source"]) == (422, "replay")
    assert replayed.json()["message"]["detail"][-1]["msg"].endswith(f"(replayed from {recording})")


def test_a_replayed_error_names_its_file_through_the_shim(
    start_mock: Callable[..., str], start_shim: Callable[..., str], mock_url: str, tmp_path: Path
) -> None:
    messages = [{"role": "user", "content": "hi"}]
    recording_shim = start_shim(upstream=start_mock(mode="record", upstream=mock_url, recordings=tmp_path))
    client = OpenAI(base_url=f"{recording_shim}/v1", api_key=KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as recorded:
        client.chat.completions.create(model="no-such-model", messages=messages)  # type: ignore[arg-type]
    (recording,) = saved(tmp_path, 1)
    replaying = start_mock(mode="replay", recordings=tmp_path, speed=0, name_replayed_errors=True)
    client = OpenAI(base_url=f"{start_shim(upstream=replaying)}/v1", api_key=KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as replayed:
        client.chat.completions.create(model="no-such-model", messages=messages)  # type: ignore[arg-type]
    # The same exception as when it was recorded, and the file it came from in its message.
    assert f"(replayed from {recording})" in replayed.value.message
    assert replayed.value.code == recorded.value.code


@pytest.fixture
def hanging() -> Iterator[str]:
    """An upstream that takes every request and answers far later than the recorder waits."""

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    with upstream(hang) as url:
        yield url


def test_a_timeout_is_not_saved_and_says_how_long_it_waited(hanging: str, tmp_path: Path) -> None:
    settings = MockSettings(mode="record", upstream=hanging, recordings=tmp_path)
    server = ServerThread(lambda: create_app(settings, any_route=True))
    with server as url:
        # The recorder of these settings, with a read timeout a test can wait for (600 s by default).
        store = RecordingStore(tmp_path)
        problems: list[Problem] = []
        recorder = RecordSource(store, hanging, None, problems, read_timeout=0.3)
        fixtures = FixtureSource((), problems)
        chain = Chain(settings, (fixtures, recorder), fixtures, store, recorder, problems)
        server.run(lambda: switch(server.app, chain))
        answer = httpx.post(f"{url}/v1/chat/completions", json=BODY, headers=AUTH, timeout=10)
    assert (answer.status_code, answer.headers["x-mock-source"]) == (504, "refused")
    assert answer.json()["message"] == (
        f"Recording failed: the upstream {hanging} did not answer within 0.3 s. Nothing was saved."
    )
    assert [problem.kind for problem in problems] == ["recording"]
    assert saved(tmp_path) == []
