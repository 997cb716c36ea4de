"""The mock's share of issue 16's speed and limits: a 1,000-line batch job, and big files up and down.

1. A batch of 1,000 chat lines, 10 of them lines Mistral refuses, run by the mock (``--job-step-ms 0``):
   seconds from creation to SUCCESS, lines a second, and whether every line was answered in Mistral's
   format, matched by its ``custom_id`` (990 in the output file, the 10 refusals in the error file).
2. Files of 10 MB and 100 MB uploaded and downloaded: the mock's peak resident memory growth for each
   (Linux ``VmHWM``), which must stay flat in the file's size.

The mock runs as its own process (``python -m mockserver serve``), as a user starts it.

    .venv/bin/python bench/jobs_bench.py [--lines 1000] [--json out.json]
"""

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer bench"}
REFUSED = {"messages": [{"role": "developer", "content": "Be brief."}]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_mock(port: int, files: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--log-level", "WARNING"]
    command += ["--job-step-ms", "0", "--files-dir", str(files)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the mock did not start") from None
            time.sleep(0.05)


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def batch(http: httpx.Client, lines: int) -> dict[str, Any]:
    refused = set(range(0, lines, max(1, lines // 10)))
    rows = []
    for n in range(lines):
        body = REFUSED if n in refused else {"messages": [{"role": "user", "content": f"Question {n}?"}]}
        rows.append(json.dumps({"custom_id": f"line-{n}", "body": {**body, "max_tokens": 32}}))
    content = ("\n".join(rows) + "\n").encode()
    file_id = http.post("/v1/files", data={"purpose": "batch"}, files={"file": ("in.jsonl", content)}).json()[
        "id"
    ]
    create = {"endpoint": "/v1/chat/completions", "model": "mistral-small-latest", "input_files": [file_id]}
    started = time.perf_counter()
    job = http.post("/v1/batch/jobs", json=create).json()
    while job["status"] not in ("SUCCESS", "FAILED", "CANCELLED", "TIMEOUT_EXCEEDED"):
        time.sleep(0.01)
        job = http.get(f"/v1/batch/jobs/{job['id']}").json()
    seconds = time.perf_counter() - started
    answered = {}
    for file_key in ("output_file", "error_file"):
        if job[file_key]:
            text = http.get(f"/v1/files/{job[file_key]}/content").text
            for line in text.splitlines():
                entry = json.loads(line)
                answered[entry["custom_id"]] = entry["response"]["status_code"]
    every = set(answered) == {f"line-{n}" for n in range(lines)}
    refusals = sorted(n for n in range(lines) if answered.get(f"line-{n}") != 200)
    return {
        "lines": lines,
        "status": job["status"],
        "seconds": round(seconds, 2),
        "lines_per_second": round(lines / seconds, 1),
        "succeeded": job["succeeded_requests"],
        "failed": job["failed_requests"],
        "every_line_answered_by_custom_id": every,
        "refused_lines_in_the_error_file": refusals == sorted(refused),
    }


def big_file(http: httpx.Client, pid: int, megabytes: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile() as source:
        digest = hashlib.sha256()
        for _ in range(megabytes):
            block = os.urandom(1024 * 1024)
            digest.update(block)
            source.write(block)
        source.flush()
        source.seek(0)
        before = peak_rss(pid)
        started = time.perf_counter()
        answer = http.post("/v1/files", data={"purpose": "ocr"}, files={"file": ("big.bin", source)}).json()
        uploaded = time.perf_counter() - started
        back = hashlib.sha256()
        with http.stream("GET", f"/v1/files/{answer['id']}/content") as download:
            for chunk in download.iter_bytes():
                back.update(chunk)
    return {
        "megabytes": megabytes,
        "upload_seconds": round(uploaded, 2),
        "peak_rss_growth_mb": round((peak_rss(pid) - before) / 2**20, 1),
        "intact": back.hexdigest() == digest.hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as files:
        process = start_mock(port, Path(files))
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=600) as http:
                http.post(
                    "/v1/chat/completions",
                    json={"model": "mistral-small-latest", "messages": [{"role": "user", "content": "warm"}]},
                )
                results = {
                    "batch": batch(http, args.lines),
                    "files": [big_file(http, process.pid, size) for size in (10, 100)],
                }
        finally:
            process.terminate()
            process.wait(10)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
