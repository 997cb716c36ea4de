"""Parsed recordings are kept by the size of their files, not by count, and forgotten oldest first.

A replay that picks among a suite's recordings at random read a file for most answers when only 256 stayed
parsed (half the CPU per answer, bench/replay_bench.py); the bound is now bytes, so memory stays bounded
whatever the recordings weigh.
"""

from pathlib import Path

import pytest

from mockserver.recording import index as index_module
from mockserver.recording.format import Body, Recording
from mockserver.recording.store import RecordingStore


def _recording(number: int) -> Recording:
    return Recording(
        method="POST",
        path="/v1/chat/completions",
        query="",
        request_headers={"content-type": "application/json"},
        request_body=Body(
            value={"model": "mistral-small-latest", "messages": [{"role": "user", "content": f"Q{number}"}]}
        ),
        status=200,
        response_headers={"content-type": "application/json"},
        response_body=Body(value={"answer": "x" * 1000, "n": number}),
    )


def test_the_cache_holds_recordings_up_to_a_size_and_forgets_the_oldest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = RecordingStore(tmp_path)
    paths = [writer.save(_recording(number)) for number in range(6)]
    size = max(path.stat().st_size for path in paths)
    monkeypatch.setattr(index_module, "CACHE_BYTES", 3 * size)
    reader = RecordingStore(tmp_path)
    reader.load()
    for path in paths:
        reader.read(path)
    assert reader.index.cached() == paths[-3:]
    reader.read(paths[3])  # a hit makes it the most recently used
    reader.read(paths[0])  # a miss reads the file again and forgets the least recently used
    assert reader.index.cached() == [paths[5], paths[3], paths[0]]
    assert reader.index.cached_bytes() == sum(path.stat().st_size for path in reader.index.cached())
    assert reader.read(paths[0]).response_body.value["n"] == 0
