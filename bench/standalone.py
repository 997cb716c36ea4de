"""The figures that are not a comparison of paths, taken with the existing scripts' own functions: the mock
alone (bench/mock_bench.py), replay and its index (bench/replay_bench.py), and 1,000 concurrent streams
through the shim (bench/shim_bench.py).
"""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import mock_bench, replay_bench, shim_bench
from bench.replay_bench import with_cpu

ROOT = Path(__file__).resolve().parents[1]


def mock_alone(server_cpu: int | None, seconds: float, concurrency: int = 32) -> dict[str, Any]:
    """Synthetic answers/s (one request repeated, every request different) and SSE events/s of one mock
    process pinned to ``server_cpu``; the caller runs the load generator on another CPU."""
    process, startup = mock_bench.start_mock(mock_bench.free_port(), server_cpu)
    process.terminate()
    process.wait()
    port = mock_bench.free_port()
    process, _ = mock_bench.start_mock(port, server_cpu)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    small = mock_bench.SMALL_CHAT
    pid = process.pid
    try:
        # The tokenizer and prose corpus load in the background after startup; warm before measuring.
        asyncio.run(mock_bench.load(url, lambda w, i: small, 1.0, 4, False))
        same = with_cpu(pid, mock_bench.load(url, lambda w, i: small, seconds, concurrency, False))
        unique = with_cpu(
            pid,
            mock_bench.load(
                url, lambda w, i: {**small, "random_seed": w * 10_000_000 + i}, seconds, concurrency, False
            ),
        )
        sse = with_cpu(
            pid, mock_bench.load(url, lambda w, i: mock_bench.STREAM_CHAT, seconds, concurrency, True)
        )
    finally:
        process.terminate()
        process.wait()
    return {
        "startup_seconds": round(startup, 3),
        "chat_same_request": same,
        "chat_unique_requests": unique,
        "sse": sse,
        "concurrency": concurrency,
    }


def replay(seconds: float) -> dict[str, Any]:
    """Replayed answers/s, replayed SSE events/s and the timing error per event (bench/replay_bench.py).

    ``replay_figures`` pins this process to the load generator's CPUs itself; the caller's pinning is
    restored afterwards.
    """
    before = os.sched_getaffinity(0)
    try:
        return replay_bench.replay_figures(seconds)
    finally:
        os.sched_setaffinity(0, before)


def replay_index(sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    """Index load time, memory and lookup time at each size, each in a fresh process so the memory figure
    is the index's and not what earlier work left in this one.

    The recordings are written to tmpfs (/dev/shm) where there is one: writing and deleting 100,000 files
    on a disk other processes are also writing to took minutes instead of seconds, and the figures are
    the index's (lookups read files the page cache holds either way), not the disk's.
    """
    env = dict(os.environ)
    if os.access("/dev/shm", os.W_OK):
        env["TMPDIR"] = "/dev/shm"
    rows = []
    for size in sizes:
        code = (
            "import json, sys; sys.path.insert(0, sys.argv[1]); "
            "from bench.replay_bench import index_figures; "
            "print(json.dumps(index_figures(int(sys.argv[2]))))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(ROOT), str(size)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        rows.append(json.loads(out.stdout))
        row = rows[-1]
        print(
            f"  replay index {size:>7,}: load {row['load_seconds']:.2f} s, {row['index_memory_mb']:.0f} MB, "
            f"lookup {row['lookup_us']:.1f} µs",
            file=sys.stderr,
            flush=True,
        )
    return rows


def many_streams(hop_cpu: int | None, mock_cpu: int | None, hops: tuple[str, ...]) -> dict[str, Any]:
    """1,000 concurrent streams (74 events, 100 ms apart) through each hop, with its resident memory."""
    commands = {
        "shim": ["-m", "shim", "serve", "--upstream"],
        "bare": ["-m", "bench.bare_proxy", "--upstream"],
    }
    mock = shim_bench.launch(
        "mock", ["-m", "mockserver", "serve", "--log-level", "WARNING", "--chunk-ms", "100"], mock_cpu
    )
    out: dict[str, Any] = {}
    try:
        for name in hops:
            hop = shim_bench.launch(name, [*commands[name], mock.url], hop_cpu)
            try:
                out[name] = asyncio.run(shim_bench.many_streams(hop, 1000, 1.0))
            finally:
                hop.stop()
            row = out[name]
            print(
                f"  1,000 streams via {name}: RSS {row['rss_before_mb']} -> {row['rss_peak_mb']} MB "
                f"(+{row['rss_growth_mb']}), {row['completed']} complete, {row['failed']} failed",
                file=sys.stderr,
                flush=True,
            )
    finally:
        mock.stop()
    return out
