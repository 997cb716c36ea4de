"""The shim's share of issue 16's speed and limits: an OpenAI batch end to end, and files streamed through.

The shim and the mock run as their own processes (``mistral-shim serve`` in front of ``python -m mockserver
serve --job-step-ms 0``), as a user starts them; the client is the openai SDK (and httpx for big files).

1. An OpenAI batch of 1,000 chat lines, 10 of them lines Mistral refuses (``max_tokens: -1``), from the
   upload of its input file to its output and error files downloaded: seconds, lines a second, and whether
   every line came back in OpenAI's batch output format, matched by ``custom_id`` (990 answers, 10 errors).
2. The shim's translation of batch files, streamed: an input file of 10 MB and of 100 MB translated into
   the job's input (``POST /v1/batches``), and a Mistral output file of 10 MB and of 100 MB translated on
   download. For each, the shim's peak resident memory growth (Linux ``VmHWM``, reset before each step
   through ``/proc/<pid>/clear_refs``), which must not grow with the file.
3. A 100 MB upload through the shim (``POST /v1/files``): the shim's peak growth (target: under 20 MB).

    .venv/bin/python bench/batch_bench.py [--lines 1000] [--json out.json] [--write-results]

``--write-results`` puts the figures into bench/RESULTS.md, in a block ``make bench`` keeps when it rewrites
the rest of that file.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
from openai import OpenAI

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402

KEY = "bench"
AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = "/v1/chat/completions"
MODEL = "mistral-small-latest"
RESULTS = ROOT / "bench" / "RESULTS.md"
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(command: list[str], port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith(("MISTRAL_", "SHIM_"))}
    process = subprocess.Popen([*command, "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, env=env)
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{command[2]} did not start") from None
            time.sleep(0.05)


def rss(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    return 0


class Peak:
    """The growth of a process's peak resident memory over one step (``VmHWM`` reset at the start)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> "Peak":
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        self.before = rss(self.pid, "VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        self.growth_mb = round((rss(self.pid, "VmHWM") - self.before) / MB, 1)


def chat_line(custom_id: str, text: str, **extra: Any) -> bytes:
    body = {"model": MODEL, "messages": [{"role": "user", "content": text}], "max_tokens": 16, **extra}
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}).encode() + b"\n"


def wait(client: OpenAI, batch_id: str) -> Any:
    batch = client.batches.retrieve(batch_id)
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        time.sleep(0.05)
        batch = client.batches.retrieve(batch_id)
    return batch


def end_to_end(client: OpenAI, lines: int) -> dict[str, Any]:
    refused = set(range(0, lines, max(1, lines // 10)))
    content = b"".join(
        chat_line(
            f"line-{n}", f"Question {n}: what is {n} + {n}?", **({"max_tokens": -1} if n in refused else {})
        )
        for n in range(lines)
    )
    started = time.perf_counter()
    input_id = client.files.create(file=("batch.jsonl", content, "application/jsonl"), purpose="batch").id
    batch = client.batches.create(input_file_id=input_id, endpoint=CHAT, completion_window="24h")
    batch = wait(client, batch.id)
    found: dict[str, dict[str, Any]] = {}
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            for text in client.files.content(file_id).text.splitlines():
                item = json.loads(text)
                found[item["custom_id"]] = item
    seconds = time.perf_counter() - started
    validate = _validators()
    shaped = all(
        set(item) == {"id", "custom_id", "response", "error"}
        and item["response"]["request_id"].startswith("req_")
        and not validate(item["response"]["status_code"], item["response"]["body"])
        for item in found.values()
    )
    failed = sorted(
        int(cid.split("-")[1]) for cid, item in found.items() if item["response"]["status_code"] != 200
    )
    return {
        "lines": lines,
        "status": batch.status,
        "seconds": round(seconds, 2),
        "lines_per_second": round(lines / seconds, 1),
        "request_counts": batch.request_counts.model_dump() if batch.request_counts else None,
        "every_line_answered_by_custom_id": set(found) == {f"line-{n}" for n in range(lines)},
        "every_line_in_openais_format": shaped,
        "refused_lines_are_the_error_lines": failed == sorted(refused),
    }


def _validators() -> Any:
    """OpenAI's spec on each line's body when ../shared is here; a shape check otherwise."""
    try:
        from testkit.spec import openai_response_validator

        chat, error = (
            openai_response_validator("CreateChatCompletionResponse"),
            openai_response_validator("ErrorResponse"),
        )
    except BaseException:  # no ../shared: pytest.skip raises
        return lambda status, body: (
            [] if ("choices" in body if status == 200 else "error" in body) else ["shape"]
        )
    return lambda status, body: chat(body) if status == 200 else error(body)


def sized_lines(megabytes: int, make: Any) -> Iterator[bytes]:
    """JSONL of about ``megabytes``, lines of about 10 KB made by ``make(n, padding)``."""
    padding = "lorem ipsum " * 850
    total = n = 0
    while total < megabytes * MB:
        line = make(n, padding)
        total += len(line)
        n += 1
        yield line


def upload(http: httpx.Client, path: Path, purpose: str, name: str) -> tuple[str, float]:
    started = time.perf_counter()
    with path.open("rb") as handle:
        answer = http.post(
            "/v1/files", data={"purpose": purpose}, files={"file": (name, handle, "application/jsonl")}
        )
    answer.raise_for_status()
    return answer.json()["id"], time.perf_counter() - started


def input_translation(
    http: httpx.Client, client: OpenAI, shim: int, megabytes: int, folder: Path
) -> dict[str, Any]:
    path = folder / f"input-{megabytes}.jsonl"
    count = 0
    with path.open("wb") as sink:
        for line in sized_lines(megabytes, lambda n, pad: chat_line(f"big-{n}", f"{n}: {pad}")):
            sink.write(line)
            count += 1
    file_id, _ = upload(http, path, "batch", path.name)
    with Peak(shim) as peak:
        started = time.perf_counter()
        batch = client.batches.create(input_file_id=file_id, endpoint=CHAT, completion_window="24h")
        seconds = time.perf_counter() - started
    client.batches.cancel(batch.id)
    # Mistral's own view of the job's input (through the pass-through): every line translated.
    job = http.get(f"/mistral/v1/batch/jobs/{batch.id}").json()
    translated = http.get(f"/mistral/v1/files/{job['input_files'][0]}").json()
    return {
        "megabytes": megabytes,
        "lines": count,
        "lines_in_the_jobs_input": translated["num_lines"],
        "create_seconds": round(seconds, 2),
        "shim_peak_growth_mb": peak.growth_mb,
    }


def mistral_output_line(n: int, padding: str) -> bytes:
    answer = {
        "id": f"cmpl-{n}", "object": "chat.completion", "model": MODEL,
        "usage": {"prompt_tokens": 9, "completion_tokens": 900, "total_tokens": 909},
        "created": 1786389977,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": padding,
                     "tool_calls": None, "tool_call_id": None, "index": None, "metadata": None}}],
    }  # fmt: skip
    line = {"id": f"batch-0-0-{n}", "custom_id": f"big-{n}", "response": {"status_code": 200, "body": answer}}
    return json.dumps({**line, "error": None}).encode() + b"\n"


def output_translation(http: httpx.Client, shim: int, megabytes: int, folder: Path) -> dict[str, Any]:
    path = folder / f"output-{megabytes}.jsonl"
    count = 0
    with path.open("wb") as sink:
        for line in sized_lines(megabytes, mistral_output_line):
            sink.write(line)
            count += 1
    file_id, _ = upload(http, path, "batch", path.name)
    seen = 0
    with Peak(shim) as peak:
        started = time.perf_counter()
        with http.stream("GET", f"/v1/files/file-batchout.{file_id}/content") as download:
            pending = b""
            for chunk in download.iter_bytes():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                seen += sum(
                    1 for line in lines if json.loads(line)["response"]["body"]["object"] == "chat.completion"
                )
        seconds = time.perf_counter() - started
    return {
        "megabytes": megabytes,
        "download_seconds": round(seconds, 2),
        "lines_translated": seen == count,
        "shim_peak_growth_mb": peak.growth_mb,
    }


def big_upload(http: httpx.Client, shim: int, megabytes: int, folder: Path) -> dict[str, Any]:
    path = folder / f"blob-{megabytes}.bin"
    digest = hashlib.sha256()
    with path.open("wb") as sink:
        for _ in range(megabytes):
            block = os.urandom(MB)
            digest.update(block)
            sink.write(block)
    with Peak(shim) as peak:
        file_id, seconds = upload(http, path, "user_data", path.name)
    back = hashlib.sha256()
    with http.stream("GET", f"/v1/files/{file_id}/content") as download:
        for chunk in download.iter_bytes():
            back.update(chunk)
    return {
        "megabytes": megabytes,
        "upload_seconds": round(seconds, 2),
        "shim_peak_growth_mb": peak.growth_mb,
        "intact": back.hexdigest() == digest.hexdigest(),
    }


def markdown(results: dict[str, Any]) -> str:
    run = results["batch"]
    lines = [
        "## Batches and files through the shim",
        "",
        f"`{results['command']}` on {results['date']}: `mistral-shim serve` in front of "
        "`mistral-mock serve --job-step-ms 0`, each its own process; the openai SDK as the client.",
        "",
        "| An OpenAI batch end to end | Figure |",
        "| --- | --- |",
        f"| {run['lines']} chat lines, 10 Mistral refuses: upload to output and error files downloaded "
        f"| {run['seconds']} s ({run['lines_per_second']} lines/s), status `{run['status']}` |",
        f"| request counts | {run['request_counts']} |",
        f"| every line answered, matched by custom_id | {run['every_line_answered_by_custom_id']} |",
        f"| every line in OpenAI's batch output format (bodies held to OpenAI's spec) "
        f"| {run['every_line_in_openais_format']} |",
        f"| the 10 refused lines are the error file's | {run['refused_lines_are_the_error_lines']} |",
        "",
        "| The shim's translation, streamed | 10 MB | 100 MB |",
        "| --- | --- | --- |",
    ]
    small_in, big_in = results["input"]
    small_out, big_out = results["output"]
    lines += [
        "| input file → job input (`POST /v1/batches`): lines translated "
        f"| {small_in['lines_in_the_jobs_input']} of {small_in['lines']} "
        f"| {big_in['lines_in_the_jobs_input']} of {big_in['lines']} |",
        f"| input file → job input: seconds | {small_in['create_seconds']} | {big_in['create_seconds']} |",
        f"| input file → job input: the shim's peak memory growth | {small_in['shim_peak_growth_mb']} MB "
        f"| {big_in['shim_peak_growth_mb']} MB |",
        f"| Mistral output → OpenAI output (download): seconds | {small_out['download_seconds']} "
        f"| {big_out['download_seconds']} |",
        "| Mistral output → OpenAI output: the shim's peak memory growth "
        f"| {small_out['shim_peak_growth_mb']} MB | {big_out['shim_peak_growth_mb']} MB |",
        "",
    ]
    upload = results["upload"]
    met = "met" if upload["shim_peak_growth_mb"] < 20 else "MISSED"
    lines += [
        f"A {upload['megabytes']} MB upload through the shim took {upload['upload_seconds']} s; the shim's "
        f"peak memory grew {upload['shim_peak_growth_mb']} MB (target: under 20 MB, {met}); downloaded back "
        f"intact: {upload['intact']}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write-results", action="store_true", help="update bench/RESULTS.md's block")
    args = parser.parse_args()
    mock_port, shim_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as files, tempfile.TemporaryDirectory() as work:
        mock_command = [sys.executable, "-m", "mockserver", "serve", "--log-level", "WARNING"]
        mock = serve([*mock_command, "--job-step-ms", "0", "--files-dir", files], mock_port)
        shim_command = [sys.executable, "-m", "shim", "serve", "--log-level", "WARNING"]
        shim = serve([*shim_command, "--upstream", f"http://127.0.0.1:{mock_port}"], shim_port)
        base = f"http://127.0.0.1:{shim_port}"
        try:
            with (
                httpx.Client(base_url=base, headers=AUTH, timeout=600) as http,
                OpenAI(base_url=f"{base}/v1", api_key=KEY, max_retries=0, timeout=600) as client,
            ):
                folder = Path(work)
                results: dict[str, Any] = {
                    "command": " ".join(["bench/batch_bench.py", *sys.argv[1:]]),
                    "date": time.strftime("%Y-%m-%d %H:%M"),
                    "batch": end_to_end(client, args.lines),
                    "input": [input_translation(http, client, shim.pid, size, folder) for size in (10, 100)],
                    "output": [output_translation(http, shim.pid, size, folder) for size in (10, 100)],
                    "upload": big_upload(http, shim.pid, 100, folder),
                }
        finally:
            for process in (shim, mock):
                process.terminate()
                process.wait(10)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.write_results:
        report.write_kept(RESULTS, "batch-bench", markdown(results), "bench/batch_bench.py --write-results")


if __name__ == "__main__":
    main()
