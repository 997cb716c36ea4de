"""A 100 MB file through the shim and back, with the shim's memory bounded: uploads and downloads stream.

The shim and the mock run as their own processes, as a user starts them; the shim's peak resident memory
(Linux ``VmHWM``, reset through ``/proc/<pid>/clear_refs`` before each step) may grow by less than 20 MB
(issue 16) while 100 MB go up, and again while they come back down, and while a Mistral batch output file
of 30 MB is translated line by line on its way down. bench/batch_bench.py measures the same at 10 and
100 MB, for the record.
"""

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from testkit.auth import AUTH
from testkit.processes import mock_process, shim_process

MB = 1024 * 1024
BOUND_MB = 20
pytestmark = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")


def rss(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {key} for {pid}")


class Peak:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.grown = 0.0

    def __enter__(self) -> "Peak":
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self.before = rss(self.pid, "VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.grown = (rss(self.pid, "VmHWM") - self.before) / MB


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    work = tmp_path_factory.mktemp("upload-memory")
    with (
        mock_process(["--files-dir", str(work / "files")], work, log_level="WARNING") as mock,
        shim_process(["--upstream", mock.url, "--log-level", "WARNING"], work, module=True) as shim,
    ):
        yield shim.url, shim.process.pid


def test_a_100_mb_upload_and_download_keep_the_shims_memory_bounded(
    servers: tuple[str, int], tmp_path: Path
) -> None:
    url, pid = servers
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with source.open("wb") as sink:
        for _ in range(100):
            block = os.urandom(MB)
            digest.update(block)
            sink.write(block)
    with httpx.Client(base_url=url, headers=AUTH, timeout=300) as http:
        with Peak(pid) as up, source.open("rb") as handle:
            answer = http.post(
                "/v1/files", data={"purpose": "user_data"}, files={"file": ("big.bin", handle)}
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["bytes"] == 100 * MB
        back = hashlib.sha256()
        with Peak(pid) as down, http.stream("GET", f"/v1/files/{answer.json()['id']}/content") as download:
            for chunk in download.iter_bytes():
                back.update(chunk)
    print(f"shim peak growth: upload {up.grown:.1f} MB, download {down.grown:.1f} MB")
    assert back.hexdigest() == digest.hexdigest()
    assert up.grown < BOUND_MB and down.grown < BOUND_MB


def test_a_batch_output_is_translated_as_it_streams(servers: tuple[str, int], tmp_path: Path) -> None:
    url, pid = servers
    content = "lorem ipsum " * 800
    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
    body = {"id": "c", "object": "chat.completion", "model": "m", "created": 1, "choices": [choice]}
    lines = 3000  # ~30 MB
    source = tmp_path / "output.jsonl"
    with source.open("wb") as sink:
        for n in range(lines):
            line = {"id": f"b-{n}", "custom_id": f"c{n}", "response": {"status_code": 200, "body": body}}
            sink.write(json.dumps({**line, "error": None}).encode() + b"\n")
    with httpx.Client(base_url=url, headers=AUTH, timeout=300) as http:
        with source.open("rb") as handle:
            file_id = http.post(
                "/v1/files", data={"purpose": "batch"}, files={"file": ("o.jsonl", handle)}
            ).json()["id"]
        seen = 0
        with Peak(pid) as down, http.stream("GET", f"/v1/files/file-batchout.{file_id}/content") as download:
            for text in download.iter_lines():
                item = json.loads(text)
                assert item["response"]["request_id"].startswith("req_")
                assert item["response"]["body"]["choices"][0]["message"]["refusal"] is None
                seen += 1
    print(f"shim peak growth translating {source.stat().st_size / MB:.0f} MB: {down.grown:.1f} MB")
    assert seen == lines and down.grown < BOUND_MB
