"""Replay: index load and lookup at 1k/10k/100k recordings, answers and SSE events per second, timing error.

.venv/bin/python bench/replay_bench.py [--sizes 1000,10000,100000] [--seconds 5] [--timing-only]

Timing: 1,000 events 5 ms apart replayed at ``--speed 1``, measured by the client from sending the request
(on an open connection), next to the OS floor (a bare ``time.sleep`` loop pinned to the server's CPU).
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
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.mock_bench import cpus, free_port, load  # noqa: E402
from mockserver.recording import index as store_module  # noqa: E402
from mockserver.recording.format import Body, Event, Recording  # noqa: E402
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
        # Every lookup reads its file, whatever the size: with the parsed-recordings cache on, a small
        # index would be all cache hits and a large one all file reads, which measures the cache, not
        # whether the index stays flat. (Replay throughput, below, runs with the cache as users do.)
        cache_bytes, store_module.CACHE_BYTES = store_module.CACHE_BYTES, 0
        try:
            started = time.perf_counter()
            for probe in probes:
                assert store.lookup("POST", CHAT, "", probe) is not None
            lookup_us = (time.perf_counter() - started) / len(probes) * 1e6
        finally:
            store_module.CACHE_BYTES = cache_bytes
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


def error_figures(late_ms: list[float]) -> dict[str, float]:
    """Timing error of each event (signed lateness in ms; negative means early)."""
    errors = sorted(abs(x) for x in late_ms)
    return {
        "events": len(late_ms),
        "mean_error_ms": statistics.mean(errors),
        "p99_error_ms": errors[int(len(errors) * 0.99) - 1],
        "max_error_ms": errors[-1],
        "earliest_ms": min(late_ms),
        "last_event_error_ms": late_ms[-1],
    }


async def timing(url: str, body: dict[str, Any], offsets_ms: list[float]) -> dict[str, float]:
    """Arrival of each event, measured from sending the request, against its recorded offset.

    The connection is opened first (a ``/health`` request), so the figure is the replay's timing, not TCP
    connection setup.
    """
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer b"}) as session:
        async with session.get(url.split("/v1/")[0] + "/health") as warm:
            await warm.read()
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
    return error_figures([a - o for a, o in zip(arrivals, offsets_ms, strict=True)])


OS_BASELINE = """
import json, time
deadlines, late = [], []
start = time.perf_counter() + 0.01
for n in range(1000):
    due = start + n * 0.005
    wait = due - time.perf_counter()
    if wait > 0:
        time.sleep(wait)
    late.append((time.perf_counter() - due) * 1000)
print(json.dumps(late))
"""


SCHEDULER_ONLY = """
import asyncio, inspect, json, sys
sys.path.insert(0, sys.argv[1])
from mockserver import render as sse

# Replays ask for precise timing (versions before it had a single mode).
PRECISE = {"precise": True} if "precise" in inspect.signature(sse.send).parameters else {}


class Clock:
    def __init__(self, loop, start):
        self.loop, self.start, self.late = loop, start, []

    async def write(self, data):
        now = self.loop.time()
        for _ in range(data.count(b"\\n\\n")):
            self.late.append((now - self.start - len(self.late) * 0.005) * 1000)


async def main():
    loop = asyncio.get_running_loop()
    start = loop.time()
    clock = Clock(loop, start)
    await sse.send(clock, [(n * 0.005, b"data: x\\n\\n") for n in range(1000)], start=start, **PRECISE)
    print(json.dumps(clock.late))


asyncio.run(main())
"""


def scheduler_only(cpu: int | None) -> dict[str, float]:
    """``sse.send`` alone, in a process pinned like the server: when each event is handed to the transport
    against its deadline, with no HTTP and no client in the measure."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    out = subprocess.run(
        [sys.executable, "-c", SCHEDULER_ONLY, str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=pin,
    )
    return error_figures(json.loads(out.stdout))


def os_baseline(cpu: int | None) -> dict[str, float]:
    """The floor: a bare ``time.sleep`` to absolute deadlines 5 ms apart, pinned like the server, with no
    event loop and no network. Its lateness is the OS scheduler's alone."""
    pin = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    out = subprocess.run(
        [sys.executable, "-c", OS_BASELINE], capture_output=True, text=True, check=True, preexec_fn=pin
    )
    return error_figures(json.loads(out.stdout))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_cpu(pid: int, work: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """``load()``'s figures plus the server's CPU seconds meanwhile: the server may not be the bottleneck
    (the load generator can be), and answers per CPU-second is its capacity on one core either way."""
    before = cpu_seconds(pid)
    figures = asyncio.run(work)
    return {**figures, "server_cpu_seconds": cpu_seconds(pid) - before}


def replay_figures(seconds: float, timing_only: bool = False) -> dict[str, Any]:
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
        runs = ((plain, 0), (streams, 0), (timed, 1))
        for folder, speed in runs[2:] if timing_only else runs:
            port = free_port()
            process = start_replay(folder, port, server_cpu, speed)
            url = f"http://127.0.0.1:{port}{CHAT}"
            try:
                if folder is plain:
                    body = lambda w, i: question(random.randrange(1000))  # noqa: E731
                    results["replay_answers"] = with_cpu(process.pid, load(url, body, seconds, 32, False))
                elif folder is streams:
                    results["replay_sse"] = with_cpu(
                        process.pid, load(url, lambda w, i: question(0), seconds, 8, True)
                    )
                else:
                    offsets = [n * 5.0 for n in range(1001)]
                    # The first replay of a recording also reads and encodes it; later ones are warm.
                    results["replay_timing_first"] = asyncio.run(timing(url, question(0), offsets))
                    runs = [asyncio.run(timing(url, question(0), offsets)) for _ in range(3)]
                    results["replay_timing"] = sorted(runs, key=lambda r: r["p99_error_ms"])[1]
                    results["replay_timing_runs"] = runs
                    results["scheduler_only"] = scheduler_only(server_cpu)
                    results["os_baseline"] = os_baseline(server_cpu)
            finally:
                process.terminate()
                process.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--timing-only", action="store_true", help="skip index load and throughput")
    args = parser.parse_args()
    if args.timing_only:
        args.sizes = ""
    sizes = [int(size) for size in args.sizes.split(",") if size]
    results: dict[str, Any] = {"index": [index_figures(size) for size in sizes]}
    for row in results["index"]:
        print(
            f"index {row['recordings']:>7,.0f} recordings: load {row['load_seconds']:.2f} s, "
            f"{row['index_memory_mb']:.0f} MB, lookup {row['lookup_us']:.1f} µs"
        )
    results.update(replay_figures(args.seconds, timing_only=args.timing_only))
    if not args.timing_only:
        print(f"replay, non-streaming:      {results['replay_answers']['answers']:.0f} answers/s")
        print(f"replay SSE at speed 0:      {results['replay_sse']['events']:.0f} events/s")
    for label, key in (
        ("first replay", "replay_timing_first"),
        ("later replay (median of 3)", "replay_timing"),
        ("sse.send alone, no HTTP", "scheduler_only"),
        ("OS floor: time.sleep, no loop, no network", "os_baseline"),
    ):
        t = results[key]
        print(
            f"timing, {label}, 1,000 events 5 ms apart: mean error {t['mean_error_ms']:.2f} ms, "
            f"p99 {t['p99_error_ms']:.2f} ms, max {t['max_error_ms']:.2f} ms, "
            f"earliest {t['earliest_ms']:+.2f} ms, last event {t['last_event_error_ms']:+.2f} ms"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
