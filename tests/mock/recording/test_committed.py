"""The fixtures committed in recordings/ replay offline as recorded, and hold no key.

Each recording file is replayed by sending its own request to a replaying mock: the answer must be the
recorded one byte for byte (status, body, or every SSE event in order), from that very file. Mistral's SDK
then runs every scenario of recordings/mistral against them. The key the recordings were made with, and
any credential header, appear nowhere in any file.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from mistralai.client import Mistral, errors

from mockserver.app import create_app
from mockserver.chain import CHAIN
from mockserver.recording.format import Recording
from mockserver.recording.matching import request_key
from mockserver.recording.redact import REQUEST_HEADERS, RESPONSE_HEADER_PREFIXES, RESPONSE_HEADERS
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.paths import ROOT
from testkit.scenarios import scenarios
from testkit.secrets import assert_no_secrets

RECORDINGS = ROOT / "recordings" / "mistral"
FOLDERS = [ROOT / "recordings" / "mistral", ROOT / "recordings" / "contract"]
RECORDING_KEY = "offline-recording-key"  # what scripts/make_recordings.py records with


UPLOAD = (
    "an upload is recorded as its file's name, size and SHA-256, not the file, so its request cannot be "
    "rebuilt here; the shim+replay contract tests send the same files and replay it"
)


def recording_files() -> Iterator[object]:
    for folder in FOLDERS:
        for path in sorted(folder.rglob("*.json")):
            upload = "multipart" in (json.loads(path.read_text())["request"].get("body") or {})
            marks = [pytest.mark.skip(reason=UPLOAD)] if upload else []
            yield pytest.param(folder, path, id=path.relative_to(ROOT).as_posix(), marks=marks)


@pytest.fixture(scope="module")
def replayers() -> Iterator[dict[Path, str]]:
    """One replaying mock per recordings folder (at full speed)."""
    servers = {
        folder: ServerThread(lambda f=folder: create_app(MockSettings(mode="replay", recordings=f, speed=0)))
        for folder in FOLDERS
    }
    urls = {folder: server.start() for folder, server in servers.items()}
    yield urls
    for server in servers.values():
        server.stop()


def test_every_scenario_replays_and_every_recording_is_used() -> None:
    apps = []

    def make():  # type: ignore[no-untyped-def]
        apps.append(create_app(MockSettings(mode="replay", recordings=RECORDINGS, speed=0)))
        return apps[-1]

    with ServerThread(make) as url:
        client = Mistral(api_key="any-key", server_url=url)
        for name, run in scenarios(client).items():
            if name.startswith("error"):
                with pytest.raises(errors.SDKError) as refused:
                    run()
                assert refused.value.status_code == 400, name
                assert "recording_not_found" not in refused.value.body
            else:
                assert run() is not None, name
        store = apps[0][CHAIN].chain.store
        assert store is not None and store.unused() == []


def key_of(recording: Recording) -> str:
    """The request as matching sees it (key order, defaults and equal numbers aside)."""
    return request_key(recording.method, recording.path, recording.query, recording.request_body)


@pytest.mark.parametrize(("folder", "path"), list(recording_files()))
def test_a_recording_replays_byte_for_byte(replayers: dict[Path, str], folder: Path, path: Path) -> None:
    recording = Recording.from_json(json.loads(path.read_text()))
    target = recording.path + (f"?{recording.query}" if recording.query else "")
    headers = {"Authorization": "Bearer replay-key", **recording.request_headers}
    with httpx.Client(base_url=replayers[folder], timeout=30) as http:
        answer = http.request(
            recording.method, target, content=recording.request_body.to_bytes() or None, headers=headers
        )
    assert answer.headers["x-mock-source"] == "replay"
    # Identical requests recorded several times replay in recorded order: the answer names its file, a
    # recording of this same request.
    source = Recording.from_json(json.loads((folder / answer.headers["x-mock-recording"]).read_text()))
    assert key_of(source) == key_of(recording)
    assert answer.status_code == source.status
    if source.is_stream:
        assert answer.content == b"".join(data for _, data in source.event_bytes())
    elif source.blob is not None:
        assert answer.content == (folder / source.blob.path).read_bytes()
    else:
        assert source.response_body is not None
        assert answer.content == source.response_body.to_bytes()


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda folder: folder.name)
def test_committed_recordings_hold_no_key(folder: Path) -> None:
    assert assert_no_secrets(folder, RECORDING_KEY) > 0  # every byte of every file, and every name
    for path in folder.rglob("*.json"):
        data = json.loads(path.read_text())
        assert set(data["request"]["headers"]) <= set(REQUEST_HEADERS), path.name
        for name in data["response"]["headers"]:
            assert name in RESPONSE_HEADERS or name.startswith(RESPONSE_HEADER_PREFIXES), (path.name, name)
        assert "bearer" not in path.read_text().lower(), path.name
