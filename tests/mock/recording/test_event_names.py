"""SSE event names (the ``event:`` field) in recordings: Mistral's native Responses streams name every event,
and mistralai's SDK refuses a frame without its name, so a recording keeps each name and a replay sends it
back, byte for byte. Recordings without names (every chat stream, every file written before names were
kept) read and replay exactly as before.
"""

import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from mistralai.client import Mistral
from mistralai.client import models as sdk

from mockserver.app import create_app
from mockserver.recording.format import Body, Event, Recording
from mockserver.recording.persister import RecordingError, read
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.paths import ROOT
from testkit.scenarios import RECORDING_HEADERS

STREAM = {"model": "mistral-small-latest", "input": "Hello", "stream": True, "max_output_tokens": 12}


def test_a_named_event_is_written_and_read_with_its_name() -> None:
    event = Event(12.5, Body(value={"type": "response.created", "sequence_number": 0}), "response.created")
    assert event.to_bytes() == (
        b'event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\n'
    )
    assert Event(1.0, Body(value={"a": 1})).to_bytes() == b'data: {"a":1}\n\n'
    recording = Recording("POST", "/v1/responses", "", {}, Body(value=STREAM), 200, {}, events=(event,))
    data = json.loads(recording.dumps())
    assert data["response"]["events"] == [
        {
            "at_ms": 12.5,
            "event": "response.created",
            "data": {"type": "response.created", "sequence_number": 0},
        }
    ]
    assert Recording.from_json(data).events == (event,)


def test_a_name_that_is_not_one_line_of_text_is_refused(tmp_path: Path) -> None:
    recording = Recording("POST", "/v1/responses", "", {}, Body(value=STREAM), 200, {}, events=())
    data = recording.to_json()
    for bad in (5, "two\nlines"):
        data["response"]["events"] = [{"at_ms": 0, "event": bad, "data": {}}]
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(data))
        with pytest.raises(RecordingError, match=r"bad\.json"):
            read(path)


NAMED_STREAMS = ("responses", "audio-speech", "audio-transcriptions")
"""The recordings folders whose streams name their events (Mistral's Responses and audio streams)."""


@pytest.mark.parametrize("folder", ["mistral", "contract"])
def test_committed_recordings_are_read_and_written_unchanged(folder: str) -> None:
    """The format change touches no existing file: each one re-serialises to its exact text."""
    files = sorted((ROOT / "recordings" / folder).rglob("*.json"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        recording = Recording.from_json(json.loads(text))
        assert recording.dumps() == text, path
        named = path.parent.name.startswith(NAMED_STREAMS)
        for event in recording.events or ():
            assert (event.name is not None) == named, path


def _record(tmp_path: Path, body: dict[str, Any]) -> tuple[bytes, Path]:
    with ServerThread(lambda: create_app(MockSettings())) as upstream:
        config = MockSettings(mode="record", upstream=upstream, recordings=tmp_path)
        with ServerThread(lambda: create_app(config)) as recorder:
            original = httpx.post(f"{recorder}/v1/responses", json=body, headers=RECORDING_HEADERS)
    (saved,) = tmp_path.rglob("*.json")
    return original.content, saved


def test_a_recorded_responses_stream_replays_byte_for_byte_to_the_sdk(tmp_path: Path) -> None:
    original, saved = _record(tmp_path, STREAM)
    assert saved.parent.name == "responses" and saved.name.startswith("responses-hello-")
    events = json.loads(saved.read_text())["response"]["events"]
    assert [event["event"] for event in events] == [event["data"]["type"] for event in events]
    assert events[-1]["event"] == "response.incomplete" and "[DONE]" not in saved.read_text()
    with ServerThread(lambda: create_app(MockSettings(mode="replay", recordings=tmp_path, speed=0))) as url:
        replayed = httpx.post(f"{url}/v1/responses", json=STREAM, headers=RECORDING_HEADERS)
        assert replayed.content == original
        # Mistral's SDK sends its constants (store, background, ...): the same recording answers it.
        client = Mistral(api_key="any-key", server_url=url)
        frames = list(
            client.responses.create(
                model="mistral-small-latest", input="Hello", stream=True, max_output_tokens=12
            )
        )
    assert [frame.event for frame in frames] == [event["event"] for event in events]
    usage = events[-1]["data"]["response"]["usage"]
    assert read(saved)[0].cost == usage["total_tokens"] > 0, "replays spend what the stream reported"
    assert isinstance(frames[-1].data, sdk.ResponsesIncompleteEvent)
