"""Throughput of one mock process on one core: answers per second, SSE events per second, startup time,
and how long the first answer takes right after startup and once the background warm-up is done.

The mock runs as its own process pinned to one CPU; the load generator (aiohttp, keep-alive) runs here,
pinned to another CPU where the machine has one, so the figure is the server's, not the client's.

    .venv/bin/python bench/mock_bench.py [--seconds 5] [--concurrency 32] [--json out.json]
"""

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
SMALL_CHAT = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Hi"}],
    "max_tokens": 16,
}
STREAM_CHAT = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Tell me a long story."}],
    "stream": True,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def start_mock(port: int, cpu: int | None) -> tuple[subprocess.Popen, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--log-level", "WARNING"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
    )
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process, time.perf_counter() - started
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the mock exited during startup") from None
            time.sleep(0.005)


def first_answer(cpu: int | None, wait: float) -> float:
    """Seconds the first chat request takes when sent ``wait`` seconds after ``/health`` first answers."""
    port = free_port()
    process, _ = start_mock(port, cpu)
    try:
        time.sleep(wait)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            data=json.dumps(SMALL_CHAT).encode(),
            headers={"Authorization": "Bearer bench", "Content-Type": "application/json"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        return time.perf_counter() - started
    finally:
        process.terminate()
        process.wait()


async def load(url: str, body_for: callable, seconds: float, concurrency: int, stream: bool) -> dict:
    """Send requests from ``concurrency`` workers for ``seconds``; count answers and SSE events."""
    headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
    counts = {"answers": 0, "events": 0, "errors": 0}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        deadline = time.perf_counter() + seconds

        async def worker(worker_id: int) -> None:
            i = 0
            while time.perf_counter() < deadline:
                payload = json.dumps(body_for(worker_id, i)).encode()
                i += 1
                async with session.post(url, data=payload) as response:
                    if response.status != 200:
                        counts["errors"] += 1
                        await response.read()
                        continue
                    if stream:
                        async for chunk in response.content.iter_any():
                            counts["events"] += chunk.count(b"\n\n")
                    else:
                        await response.read()
                    counts["answers"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {k: v / elapsed for k, v in counts.items()} | {"seconds": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    available = cpus()
    server_cpu = available[0] if len(available) > 1 else None
    if len(available) > 1:
        os.sched_setaffinity(0, set(available[1:]))

    startups = []
    for _ in range(3):
        process, startup = start_mock(free_port(), server_cpu)
        startups.append(startup)
        process.terminate()
        process.wait()
    # The tokenizer and prose corpus load in the background after startup: a request sent at once waits
    # for the rest of that load; one sent once it is done does not.
    first_at_once = sorted(first_answer(server_cpu, 0.0) for _ in range(3))[1]
    first_later = sorted(first_answer(server_cpu, 3.0) for _ in range(3))[1]

    port = free_port()
    process, _ = start_mock(port, server_cpu)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    try:
        # Warm the tokenizers and the answer cache before measuring.
        asyncio.run(load(url, lambda w, i: SMALL_CHAT, 1.0, 4, False))
        results = {
            "startup_seconds_best_of_3": min(startups),
            "first_answer_at_once_seconds_median_of_3": first_at_once,
            "first_answer_3s_after_startup_seconds_median_of_3": first_later,
            "chat_same_request": asyncio.run(
                load(url, lambda w, i: SMALL_CHAT, args.seconds, args.concurrency, False)
            ),
            "chat_unique_requests": asyncio.run(
                load(
                    url,
                    lambda w, i: {**SMALL_CHAT, "random_seed": w * 10_000_000 + i},
                    args.seconds,
                    args.concurrency,
                    False,
                )
            ),
            "sse": asyncio.run(load(url, lambda w, i: STREAM_CHAT, args.seconds, args.concurrency, True)),
        }
    finally:
        process.terminate()
        process.wait()

    results["machine"] = {
        "python": platform.python_version(),
        "cpus_available": len(available),
        "server_pinned_to_cpu": server_cpu,
        "processor": platform.processor() or platform.machine(),
    }
    print(f"startup (best of 3):        {results['startup_seconds_best_of_3'] * 1000:.0f} ms")
    print(f"first answer, sent at once: {first_at_once * 1000:.0f} ms (median of 3)")
    print(f"first answer, 3 s later:    {first_later * 1000:.0f} ms (median of 3)")
    print(f"chat, same request:         {results['chat_same_request']['answers']:.0f} answers/s")
    print(f"chat, unique requests:      {results['chat_unique_requests']['answers']:.0f} answers/s")
    print(f"SSE events (zero delay):    {results['sse']['events']:.0f} events/s")
    errors = sum(results[k]["errors"] for k in ("chat_same_request", "chat_unique_requests", "sse"))
    print(f"errors:                     {errors:.0f}/s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
