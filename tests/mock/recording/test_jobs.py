"""Record and replay of files, batch jobs and audio: forms matched by content, binary answers kept as blobs,
a polled batch job replayed state by state, audio streams with their event names.

Each test records through a mock in front of a synthetic upstream, then replays with the upstream gone.
"""

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
from mistralai.client import Mistral

from testkit.audio import tone_wav
from testkit.auth import AUTH, KEY

LINES = b"".join(
    json.dumps({"custom_id": str(n), "body": {"messages": [{"role": "user", "content": f"Hi {n}"}]}}).encode()
    + b"\n"
    for n in range(4)
)


def settled(folder: Path, count: int) -> None:
    """Wait until the recorder has written ``count`` recordings (it saves after the answer is sent)."""
    deadline = time.monotonic() + 10
    while len(list(folder.rglob("*.json"))) < count:
        assert time.monotonic() < deadline, f"{len(list(folder.rglob('*.json')))} recordings, not {count}"
        time.sleep(0.02)


def recording_of(folder: Path, route: str) -> tuple[Path, dict[str, Any]]:
    (path,) = sorted((folder / route).glob("*.json"))
    return path, json.loads(path.read_text())


def upload(http: httpx.Client, content: bytes, name: str = "data.bin") -> httpx.Response:
    return http.post(
        "/v1/files", data={"purpose": "batch"}, files={"file": (name, content, "application/octet-stream")}
    )


def test_an_upload_is_recorded_by_digest_and_replayed_by_content(
    start_mock: Callable[..., str], tmp_path: Path
) -> None:
    content = os.urandom(1024 * 1024)
    folder = tmp_path / "recordings"
    recorder = start_mock(mode="record", upstream=start_mock(), recordings=folder)
    with httpx.Client(base_url=recorder, headers=AUTH, timeout=30) as http:
        recorded = upload(http, content)
        assert recorded.status_code == 200
        assert recorded.json()["signature"] == hashlib.md5(content).hexdigest(), "the upstream got the bytes"
        downloaded = http.get(f"/v1/files/{recorded.json()['id']}/content")
        assert downloaded.content == content
    settled(folder, 2)
    assert sorted(p.name for p in folder.iterdir()) == ["blobs", "files", "files-content"]
    path, saved = recording_of(folder, "files")
    assert path.stat().st_size < 4096, "a recording keeps the file's digest, not its bytes"
    assert saved["request"]["body"] == {
        "multipart": {
            "purpose": "batch",
            "file": {
                "filename": "data.bin",
                "content_type": "application/octet-stream",
                "bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        }
    }
    (download,) = [p for p in folder.rglob("*.json") if "blob" in json.loads(p.read_text())["response"]]
    kept = json.loads(download.read_text())["response"]["blob"]
    assert kept["bytes"] == len(content) and (folder / kept["path"]).read_bytes() == content

    replayer = start_mock(mode="replay", recordings=folder, speed=0)
    with httpx.Client(base_url=replayer, headers=AUTH, timeout=30) as http:
        again = upload(http, content)  # a new boundary, the same content
        assert again.status_code == 200 and again.json() == recorded.json()
        assert http.get(f"/v1/files/{recorded.json()['id']}/content").content == content
        other = upload(http, content[:-1] + b"!")
        assert other.status_code == 404
        message = other.json()["message"]
        assert "multipart.file.sha256" in message and "multipart.file.bytes" not in message


def test_a_polled_batch_job_replays_its_recorded_states(
    start_mock: Callable[..., str], tmp_path: Path
) -> None:
    folder = tmp_path / "recordings"
    recorder = start_mock(mode="record", upstream=start_mock(job_step_ms=60), recordings=folder)
    statuses = []
    with httpx.Client(base_url=recorder, headers=AUTH, timeout=30) as http:
        file_id = upload(http, LINES, "in.jsonl").json()["id"]
        create = {
            "endpoint": "/v1/chat/completions",
            "model": "mistral-small-latest",
            "input_files": [file_id],
        }
        job = http.post("/v1/batch/jobs", json=create).json()
        while True:
            polled = http.get(f"/v1/batch/jobs/{job['id']}").json()
            statuses.append((polled["status"], polled["completed_requests"]))
            if polled["status"] == "SUCCESS":
                break
            time.sleep(0.02)
        output = http.get(f"/v1/files/{polled['output_file']}/content").content
    assert statuses[0][0] in ("QUEUED", "RUNNING") and len(statuses) >= 3
    settled(folder, 3 + len(statuses))

    replayer = start_mock(mode="replay", recordings=folder, speed=0)
    with httpx.Client(base_url=replayer, headers=AUTH, timeout=30) as http:
        assert upload(http, LINES, "in.jsonl").json()["id"] == file_id
        assert http.post("/v1/batch/jobs", json=create).json() == job
        replayed = []
        for _ in range(len(statuses) + 3):
            polled = http.get(f"/v1/batch/jobs/{job['id']}").json()
            replayed.append((polled["status"], polled["completed_requests"]))
        assert replayed == statuses + [statuses[-1]] * 3, "in recorded order, then the last state again"
        assert http.get(f"/v1/files/{polled['output_file']}/content").content == output


def test_an_audio_stream_keeps_its_event_names(start_mock: Callable[..., str], tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    audio = tone_wav(2.0)
    recorder = start_mock(mode="record", upstream=start_mock(), recordings=folder)
    with Mistral(api_key=KEY, server_url=recorder) as sdk:
        recorded = [
            event.event
            for event in sdk.audio.transcriptions.stream(
                model="voxtral-mini-latest", file={"file_name": "a.wav", "content": audio}
            )
        ]
    settled(folder, 1)
    _, saved = recording_of(folder, "audio-transcriptions")
    assert [event["event"] for event in saved["response"]["events"]] == recorded
    assert saved["request"]["body"]["multipart"]["file"]["bytes"] == len(audio)
    replayer = start_mock(mode="replay", recordings=folder, speed=0)
    with Mistral(api_key=KEY, server_url=replayer) as sdk:
        replayed = list(
            sdk.audio.transcriptions.stream(
                model="voxtral-mini-latest", file={"file_name": "a.wav", "content": audio}
            )
        )
    assert [event.event for event in replayed] == recorded
    assert replayed[-1].event == "transcription.done"


def test_a_batch_line_is_answered_by_its_recording_when_replaying(
    start_mock: Callable[..., str], tmp_path: Path
) -> None:
    """In replay mode (``--on-miss synthetic`` runs jobs), a line whose request was recorded gets the
    recorded answer (in the batch flavour of a chat answer); the others are generated."""
    folder = tmp_path / "recordings"
    question = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Recorded?"}]}
    recorder = start_mock(mode="record", upstream=start_mock(), recordings=folder)
    with httpx.Client(base_url=recorder, headers=AUTH, timeout=30) as http:
        recorded = http.post("/v1/chat/completions", json=question).json()
    settled(folder, 1)
    replayer = start_mock(mode="replay", recordings=folder, speed=0, on_miss="synthetic", job_step_ms=5)
    rows = [
        {"custom_id": "r", "body": {"messages": question["messages"]}},
        {"custom_id": "g", "body": {"messages": [{"role": "user", "content": "New?"}]}},
    ]
    with httpx.Client(base_url=replayer, headers=AUTH, timeout=30) as http:
        content = b"".join(json.dumps(row).encode() + b"\n" for row in rows)
        file_id = upload(http, content, "in.jsonl").json()["id"]
        create = {
            "endpoint": "/v1/chat/completions",
            "model": "mistral-small-latest",
            "input_files": [file_id],
        }
        job = http.post("/v1/batch/jobs", json=create).json()
        while job["status"] != "SUCCESS":
            time.sleep(0.02)
            job = http.get(f"/v1/batch/jobs/{job['id']}").json()
        lines = {
            line["custom_id"]: line
            for line in map(json.loads, http.get(f"/v1/files/{job['output_file']}/content").text.splitlines())
        }
    replayed = lines["r"]["response"]["body"]
    assert (
        replayed["id"] == recorded["id"]
        and replayed["choices"][0]["message"]["content"] == (recorded["choices"][0]["message"]["content"])
    )
    assert replayed["choices"][0]["message"]["tool_call_id"] is None, "in the batch flavour, as live"
    assert lines["g"]["response"]["body"]["id"] != recorded["id"]
