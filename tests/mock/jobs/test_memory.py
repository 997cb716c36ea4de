"""A 100 MB file goes up to the mock and comes back down with its memory flat: streamed, never held.

The mock runs as its own process, as a user starts it, and the bound is on its peak resident memory
(``VmHWM``) over the upload and the download, against its peak before them: a bound, not a timing.
"""

import hashlib
import os
from pathlib import Path

import httpx2 as httpx

from testkit.auth import AUTH
from testkit.processes import mock_process
from testkit.wire import CHAT

SIZE = 100 * 1024 * 1024
BOUND = 30 * 1024 * 1024
"""Peak growth allowed for 100 MB up and down: the slices in flight and the allocator, not the file."""


def peak_rss(pid: int) -> int:
    """The process's peak resident memory so far, in bytes (Linux's ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc: this test needs Linux")


def write_random(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for _ in range(size // (1024 * 1024)):
            block = os.urandom(1024 * 1024)
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


def test_a_100_mb_upload_and_download_keep_the_mocks_memory_flat(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    expected = write_random(source, SIZE)
    with (
        mock_process(["--files-dir", str(tmp_path / "files")], tmp_path) as mock,
        httpx.Client(base_url=mock.url, headers=AUTH, timeout=120) as http,
    ):
        # Warm up: the tokenizers (loaded at start), and one small upload and download.
        assert http.post("/v1/chat/completions", json=CHAT).status_code == 200
        small = http.post("/v1/files", data={"purpose": "ocr"}, files={"file": ("s.bin", b"x" * 4096)}).json()
        assert http.get(f"/v1/files/{small['id']}/content").status_code == 200
        before = peak_rss(mock.process.pid)
        with source.open("rb") as handle:
            answer = http.post("/v1/files", data={"purpose": "ocr"}, files={"file": ("big.bin", handle)})
        assert answer.status_code == 200, answer.text
        file_id = answer.json()["id"]
        assert answer.json()["bytes"] == SIZE
        digest = hashlib.sha256()
        with http.stream("GET", f"/v1/files/{file_id}/content") as download:
            for chunk in download.iter_bytes():
                digest.update(chunk)
        assert digest.hexdigest() == expected
        grown = peak_rss(mock.process.pid) - before
    print(f"100 MB up and down: the mock's peak resident memory grew {grown / 2**20:.1f} MiB")
    assert grown < BOUND, f"peak memory grew {grown / 2**20:.1f} MiB for a 100 MB file"
