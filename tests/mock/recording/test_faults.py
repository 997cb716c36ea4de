"""A fault a test forces with ``x-mock-fault`` is never saved as a recording.

Recordings match on method, path and body; a saved 429 would be replayed to the same request sent later
without the header. The contract suite hit exactly that: after recording, plain model lists came back as
rate limits.
"""

import time
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx

from testkit.auth import AUTH

BODY = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Say hello."}]}


def test_a_forced_fault_passes_through_record_mode_unsaved(
    tmp_path: Path, mock_url: str, start_mock: Callable[..., str]
) -> None:
    recorder = start_mock(mode="record", upstream=mock_url, recordings=tmp_path)
    with httpx.Client(base_url=recorder, headers=AUTH, timeout=30) as http:
        for fault in ("status=429;retry_after=1", "status=503"):
            answer = http.post("/v1/chat/completions", json=BODY, headers={"x-mock-fault": fault})
            assert answer.status_code == int(fault.split(";")[0].split("=")[1])
        assert list(tmp_path.rglob("*.json")) == []
        assert http.post("/v1/chat/completions", json=BODY).status_code == 200
    deadline = time.monotonic() + 5  # the file is written just after the answer went out
    while not list(tmp_path.rglob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(list(tmp_path.rglob("*.json"))) == 1
    replayer = start_mock(mode="replay", recordings=tmp_path, speed=0.0)
    with httpx.Client(base_url=replayer, headers=AUTH, timeout=30) as http:
        assert http.post("/v1/chat/completions", json=BODY).status_code == 200
