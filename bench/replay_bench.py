"""Replay: index load and lookup at 1k/10k/100k recordings, answers and SSE events per second, timing error.

.venv/bin/python bench/replay_bench.py [--sizes 1000,10000,100000] [--seconds 5]
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.mock_bench import cpus, free_port, load  # noqa: E402
from mockserver.recording.model import Body, Event, Recording  # noqa: E402
from mockserver.recording.store import RecordingStore, file_stem  # noqa: E402

CHAT = "/v1/chat/completions"


def question(i: int) -> dict[str, Any]:
    return {
        "model": "mistral-small-latest",
        "messages": [{"role": "user", "content": f"Question number {i}?"}],
    }


def answer(i: int) -> dict[str, Any]:
    message = {"role": "assistant", "tool_calls": None, "content": f"Answer {i}."}
    return {
        "id": f"{i:032x}",
        "created": 1795000000,
        "model": "mistral-small-latest",
        "usage": {"prompt_tokens": 9, "total_tokens": 20, "completion_tokens": 11},
        "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
    }


def stream(count: int, gap_ms: float) -> tuple[Event, ...]:
    chunk = {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "delta": {"content": " word"}, "finish_reason": None}],
    }
    events = tuple(Event(n * gap_ms, Body(value=chunk)) for n in range(count))
    return (*events, Event(count * gap_ms, Body(value="[DONE]")))


def write_recordings(folder: Path, count: int, stream_events: int = 0, gap_ms: float = 0.0) -> None:
    """Recordings written straight to disk (no fsync), the way a checkout would bring them."""
    store = RecordingStore(folder)
    directory = folder / "chat"
    directory.mkdir(parents=True, exist_ok=True)
    content_type = "text/event-stream; charset=utf-8" if stream_events else "application/json"
    for i in range(count):
        recording = Recording(
            method="POST",
            path=CHAT,
            query="",
            request_headers={"content-type": "application/json"},
            request_body=Body(value=question(i)),
            status=200,
            response_headers={"content-type": content_type},
            response_body=None if stream_events else Body(value=answer(i)),
            events=stream(stream_events, gap_ms) if stream_events else None,
        )
        (directory / f"{file_stem(recording, store.key_of(recording))}.json").write_text(recording.dumps())


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def index_figures(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        write_recordings(Path(folder), size)
        before = rss_mb()
        store = RecordingStore(Path(folder))
        started = time.perf_counter()
        loaded = store.load()
        load_seconds = time.perf_counter() - started
        memory = rss_mb() - before
        probes = [Body(value=question(random.randrange(size))) for _ in range(5000)]
        started = time.perf_counter()
        for probe in probes:
            assert store.lookup("POST", CHAT, "", probe) is not None
        lookup_us = (time.perf_counter() - started) / len(probes) * 1e6
    return {
        "recordings": loaded,
        "load_seconds": load_seconds,
        "index_memory_mb": memory,
        "lookup_us": lookup_us,
    }


def start_replay(folder: Path, port: int, cpu: int | None, speed: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "mockserver", "serve", "--mode", "replay", "--recordings", str(folder)]
    command += ["--port", str(port), "--speed", str(speed), "--log-level", "WARNING"]
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    process = subprocess.Popen(command, cwd=ROOT, preexec_fn=pin, stdout=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except OSError:
            time.sleep(0.01)


async def timing(url: str, body: dict[str, Any], offsets_ms: list[float]) -> dict[str, float]:
    """Arrival of each event, measured from sending the request, against its recorded offset."""
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer b"}) as session:
        arrivals = []
        started = time.perf_counter()
        async with session.post(url, json=body) as response:
            buffer = b""
            async for chunk in response.content.iter_any():
                now = (time.perf_counter() - started) * 1000
                buffer += chunk
                while b"\n\n" in buffer:
                    _, buffer = buffer.split(b"\n\n", 1)
                    arrivals.append(now)
    errors = sorted(abs(a - o) for a, o in zip(arrivals, offsets_ms, strict=True))
    return {
        "events": len(arrivals),
        "mean_error_ms": statistics.mean(errors),
        "p99_error_ms": errors[int(len(errors) * 0.99) - 1],
        "max_error_ms": errors[-1],
        "last_event_error_ms": arrivals[-1] - offsets_ms[-1],
    }


def replay_figures(seconds: float) -> dict[str, Any]:
    available = cpus()
    server_cpu = available[0] if len(available) > 1 else None
    if len(available) > 1:
        os.sched_setaffinity(0, set(available[1:]))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        plain, streams, timed = Path(work, "plain"), Path(work, "streams"), Path(work, "timed")
        write_recordings(plain, 1000)
        write_recordings(streams, 1, stream_events=2000)
        write_recordings(timed, 1, stream_events=1000, gap_ms=5.0)
        for folder, speed in ((plain, 0), (streams, 0), (timed, 1)):
            port = free_port()
            process = start_replay(folder, port, server_cpu, speed)
            url = f"http://127.0.0.1:{port}{CHAT}"
            try:
                if folder is plain:
                    body = lambda w, i: question(random.randrange(1000))  # noqa: E731
                    results["replay_answers"] = asyncio.run(load(url, body, seconds, 32, False))
                elif folder is streams:
                    results["replay_sse"] = asyncio.run(load(url, lambda w, i: question(0), seconds, 8, True))
                else:
                    offsets = [n * 5.0 for n in range(1001)]
                    # The first replay of a recording also reads and encodes it; later ones are warm.
                    results["replay_timing_first"] = asyncio.run(timing(url, question(0), offsets))
                    results["replay_timing"] = asyncio.run(timing(url, question(0), offsets))
            finally:
                process.terminate()
                process.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"index": [index_figures(int(size)) for size in args.sizes.split(",")]}
    for row in results["index"]:
        print(
            f"index {row['recordings']:>7,.0f} recordings: load {row['load_seconds']:.2f} s, "
            f"{row['index_memory_mb']:.0f} MB, lookup {row['lookup_us']:.1f} µs"
        )
    results.update(replay_figures(args.seconds))
    print(f"replay, non-streaming:      {results['replay_answers']['answers']:.0f} answers/s")
    print(f"replay SSE at speed 0:      {results['replay_sse']['events']:.0f} events/s")
    for label, key in (("first replay", "replay_timing_first"), ("later replay", "replay_timing")):
        t = results[key]
        print(
            f"timing, {label}, 1,000 events 5 ms apart: mean error {t['mean_error_ms']:.2f} ms, "
            f"p99 {t['p99_error_ms']:.2f} ms, max {t['max_error_ms']:.2f} ms, "
            f"last event {t['last_event_error_ms']:+.2f} ms"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
