"""Replay mode judges every request by Mistral's contract, as the live API would, before it says "missing".

A request Mistral would refuse, with no recording, gets Mistral's own refusal (so a test of an error path
needs no recording of it); a request Mistral would accept gets the 404 that names what no recording
matched; a refusal that was recorded still replays byte for byte, as recorded.
"""

import json
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx

from mockserver.recording.format import Body, Recording
from mockserver.recording.store import RecordingStore

AUTH = {"Authorization": "Bearer test-key"}
DEVELOPER = {"model": "mistral-small-latest", "messages": [{"role": "developer", "content": "Be brief."}]}
FINE = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hello"}]}


def test_a_refused_request_without_recording_gets_mistrals_refusal(
    start_mock: Callable[..., str], mock_url: str, tmp_path: Path
) -> None:
    replay = start_mock(mode="replay", recordings=tmp_path)
    synthetic = httpx.post(f"{mock_url}/v1/chat/completions", json=DEVELOPER, headers=AUTH)
    replayed = httpx.post(f"{replay}/v1/chat/completions", json=DEVELOPER, headers=AUTH)
    assert replayed.status_code == synthetic.status_code == 422
    assert replayed.content == synthetic.content  # the very refusal the synthetic mock sends
    assert replayed.json()["message"]["detail"][0]["type"] == "union_tag_invalid"
    assert replayed.headers["x-mock-source"] == "contract"


def test_an_accepted_request_without_recording_is_a_miss(
    start_mock: Callable[..., str], tmp_path: Path
) -> None:
    replay = start_mock(mode="replay", recordings=tmp_path)
    missed = httpx.post(f"{replay}/v1/chat/completions", json=FINE, headers=AUTH)
    assert missed.status_code == 404
    assert missed.json()["type"] == "recording_not_found"
    assert missed.headers["x-mock-source"] == "miss"


def test_a_recorded_refusal_replays_as_recorded(start_mock: Callable[..., str], tmp_path: Path) -> None:
    """The live API's words win over the contract's: a recording of a refusal is what replay sends."""
    recorded = {"object": "error", "message": "recorded words", "type": "invalid_request_error", "code": None}
    RecordingStore(tmp_path).save(
        Recording(
            method="POST",
            path="/v1/chat/completions",
            query="",
            request_headers={"content-type": "application/json"},
            request_body=Body(value=DEVELOPER),
            status=422,
            response_headers={"content-type": "application/json"},
            response_body=Body(value=recorded),
        )
    )
    replay = start_mock(mode="replay", recordings=tmp_path)
    answer = httpx.post(f"{replay}/v1/chat/completions", json=DEVELOPER, headers=AUTH)
    assert (answer.status_code, answer.json()) == (422, recorded)
    assert answer.headers["x-mock-source"] == "replay"
    assert answer.headers["x-mock-recording"].startswith("chat/") and answer.headers[
        "x-mock-recording"
    ].endswith(".json")
    assert (
        json.loads((tmp_path / answer.headers["x-mock-recording"]).read_text())["response"]["status"] == 422
    )
