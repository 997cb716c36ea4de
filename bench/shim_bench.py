"""The shim's cost against a bare aiohttp proxy (bench/bare_proxy.py), both in front of the mock.

Three paths, measured interleaved (round after round, the order rotating) so noise hits them alike:
``direct`` (client → mock), ``bare`` (client → bare proxy → mock) and ``shim`` (client → shim → mock).

* small non-streaming chat at concurrency 1: latency p50/p99; added latency = path - direct
* the same at concurrency 32: throughput and p99, with each server's CPU use
* streaming chat (mock paced at one event per ``--chunk-ms``): time to the first event, to each later
  event and to the end, added vs direct; a relay that held a chunk back shows as a later event arriving
  later than the first one did
* 1,000 concurrent streams through the shim (and the bare proxy, for scale): resident memory (VmRSS from
  /proc/PID/status, sampled every 20 ms, and VmHWM) after a warm-up and at peak; a second mock paced at one
  event per 100 ms (74 events, about 7 s a stream) with a fresh shim and bare proxy in front, the streams
  opened over one second

CPU layout on a 2-CPU machine: the mock and the load generator on CPU 1, the bare proxy and the shim on
CPU 0 (only one of them is loaded at a time). The hop under test thus has a CPU of its own and the load
generator never takes time from it; the mock is cheap (cached answers) and shares with the client. CPU 1
can still cap the bare proxy's req/s, so each hop's CPU time per answer is reported too (its capacity).

Other processes' CPU use is measured for every round and every c=32 slice (from /proc/stat, less ours):
rounds and slices they disturbed are left out when enough quiet ones remain, and the run waits (up to
``--wait-quiet`` seconds in all) for quiet before starting and between rounds.

    .venv/bin/python -m bench.shim_bench [--quick] [--json out.json]
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.mock_bench import cpus, free_port  # noqa: E402

PATHS = ("direct", "bare", "shim")
CHAT = "/v1/chat/completions"
HEADERS = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
SMALL_CHAT = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Hi"}],
    "max_tokens": 16,
}
# 18 events (role chunk, 16 tokens, [DONE]), paced by the mock's --chunk-ms.
STREAM_CHAT = {**SMALL_CHAT, "stream": True}
# 74 events: the longest synthetic answer to this prompt.
LONG_STREAM = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Tell me a long story."}],
    "stream": True,
}
# Servers must not pick up a key, config or upstream from the caller's environment.
SCRUBBED_ENV = ("MISTRAL_API_KEY", "SHIM_API_KEYS", "SHIM_CONFIG", "MISTRAL_BASE_URL", "MOCK_API_KEYS")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Settings:
    rounds: int
    c1_requests: int  # per path per round
    c32_seconds: float  # per path per round
    streams: int  # per path per round, one at a time
    chunk_ms: int
    many_streams: int
    many_chunk_ms: int
    many_ramp_seconds: float


QUIET_THRESHOLD = 15.0  # % of one CPU used by other processes during a round
PER_ROUND_WAIT = 8.0  # longest wait for a quiet machine before each round
FULL = Settings(12, 400, 1.0, 10, 10, 1000, 100, 1.0)
QUICK = Settings(3, 200, 0.75, 4, 10, 1000, 100, 1.0)


# --- processes -----------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    cpu: int | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        return _status_kb(self.process.pid, "VmRSS") / 1024

    def hwm_mb(self) -> float:
        return _status_kb(self.process.pid, "VmHWM") / 1024

    def reset_hwm(self) -> bool:
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def cpu_ticks() -> dict[str, list[int]]:
    """Per-CPU jiffies from /proc/stat: user nice system idle iowait irq softirq steal ..."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *values = line.split()
            out[name] = [int(v) for v in values]
    return out


class CpuWatch:
    """CPU use between ``start()`` and ``stop()``: each CPU's busy share, our processes', everyone else's."""

    def __init__(self, servers: dict[str, "Server"]) -> None:
        self.servers = servers

    def start(self) -> "CpuWatch":
        self.ticks = cpu_ticks()
        self.ours = {name: s.cpu_seconds() for name, s in self.servers.items()}
        self.ours["load generator"] = time.process_time()
        self.started = time.perf_counter()
        return self

    def stop(self) -> dict[str, Any]:
        elapsed = time.perf_counter() - self.started
        ticks = cpu_ticks()
        used = {name: s.cpu_seconds() - self.ours[name] for name, s in self.servers.items()}
        used["load generator"] = time.process_time() - self.ours["load generator"]
        delta = {cpu: [a - b for a, b in zip(ticks[cpu], self.ticks[cpu], strict=False)] for cpu in ticks}
        busy = {cpu: round(100 * (sum(d) - d[3] - d[4]) / max(1, sum(d)), 1) for cpu, d in delta.items()}
        # user + nice + system of every process on the machine, less ours: other sessions' work.
        everyone = sum(d[0] + d[1] + d[2] for d in delta.values()) / TICKS
        steal = sum(d[7] for d in delta.values() if len(d) > 7) / TICKS
        return {
            "seconds": elapsed,
            "process_cpu_seconds": used,
            "cpu_busy_percent": busy,
            "other_processes_cpu_percent": round(
                max(0.0, 100 * (everyone - sum(used.values())) / elapsed), 1
            ),
            "steal_percent": round(100 * steal / elapsed, 1),
        }


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def launch(name: str, argv: list[str], cpu: int | None) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    process = subprocess.Popen(
        [sys.executable, *argv, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the shim's access log (INFO) is still formatted and written
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return Server(name, process, port, cpu)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{name} did not start") from None
            time.sleep(0.02)


def start_all(chunk_ms: int, hop_cpu: int | None, mock_cpu: int | None) -> dict[str, Server]:
    """The mock, then the bare proxy and the shim in front of it; ``direct`` is the mock itself."""
    mock = launch(
        "mock",
        ["-m", "mockserver", "serve", "--log-level", "WARNING", "--chunk-ms", str(chunk_ms)],
        mock_cpu,
    )
    bare = launch("bare", ["-m", "bench.bare_proxy", "--upstream", mock.url], hop_cpu)
    shim = launch("shim", ["-m", "shim", "serve", "--upstream", mock.url], hop_cpu)
    return {"direct": mock, "bare": bare, "shim": shim}


# --- measurements --------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


@dataclass
class PathData:
    c1: list[float] = field(default_factory=list)
    c1_rounds: list[float] = field(default_factory=list)  # p50 per round
    overhead_header: list[float] = field(default_factory=list)
    c32_answers: int = 0
    c32_seconds: float = 0.0
    c32_errors: int = 0
    c32: list[float] = field(default_factory=list)
    c32_rounds: list[float] = field(default_factory=list)  # req/s per round
    c32_cpu: dict[str, float] = field(default_factory=dict)  # process → CPU seconds while loaded
    c32_busy: list[dict[str, float]] = field(default_factory=list)  # per round: each CPU's busy %
    c32_other: list[float] = field(default_factory=list)  # per round: other processes' CPU %
    c32_hop_us: list[float] = field(default_factory=list)  # per round: the path's server, CPU µs per answer
    first: list[float] = field(default_factory=list)
    end: list[float] = field(default_factory=list)
    arrivals: list[list[float]] = field(default_factory=list)
    stream_errors: int = 0


async def sequential(
    session: aiohttp.ClientSession, url: str, payload: bytes, count: int, data: PathData
) -> None:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        async with session.post(url, data=payload) as response:
            await response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"{url} answered {response.status}: {await response.text()}")
            overhead = response.headers.get("x-shim-overhead-ms")
        latencies.append(elapsed)
        if overhead is not None:
            data.overhead_header.append(float(overhead) / 1000)
    data.c1 += latencies
    data.c1_rounds.append(statistics.median(latencies))


async def concurrent(
    session: aiohttp.ClientSession,
    url: str,
    payload: bytes,
    seconds: float,
    concurrency: int,
    data: PathData,
    servers: dict[str, Server],
    hop: str | None = None,
) -> None:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.post(url, data=payload) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
                    continue
            latencies.append(time.perf_counter() - started)

    watch = CpuWatch(servers).start()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu = watch.stop()
    elapsed = cpu["seconds"]
    data.c32_busy.append(cpu["cpu_busy_percent"])
    data.c32_other.append(cpu["other_processes_cpu_percent"])
    if hop is not None:
        data.c32_hop_us.append(round(1e6 * cpu["process_cpu_seconds"][hop] / max(1, len(latencies)), 1))
    for name, used in cpu["process_cpu_seconds"].items():
        data.c32_cpu[name] = data.c32_cpu.get(name, 0.0) + used
    data.c32_answers += len(latencies)
    data.c32_seconds += elapsed
    data.c32_errors += errors
    data.c32 += latencies
    data.c32_rounds.append(len(latencies) / elapsed)


async def one_stream(session: aiohttp.ClientSession, url: str, payload: bytes) -> tuple[list[float], bool]:
    """Arrival time of each complete event, from sending the request; whether it ended with [DONE]."""
    arrivals: list[float] = []
    pending = b""
    started = time.perf_counter()
    async with session.post(url, data=payload) as response:
        if response.status != 200:
            await response.read()
            return [], False
        async for chunk in response.content.iter_any():
            now = time.perf_counter() - started
            pending += chunk
            while b"\n\n" in pending:
                _, pending = pending.split(b"\n\n", 1)
                arrivals.append(now)
    # The end is when the body is complete, after the last event.
    arrivals.append(time.perf_counter() - started)
    return arrivals, True


async def streams(
    session: aiohttp.ClientSession, url: str, payload: bytes, count: int, data: PathData
) -> None:
    for _ in range(count):
        arrivals, ok = await one_stream(session, url, payload)
        if not ok or len(arrivals) < 3:
            data.stream_errors += 1
            continue
        data.first.append(arrivals[0])
        data.end.append(arrivals[-1])
        data.arrivals.append(arrivals[:-1])


def session_for(concurrency: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=120)
    return aiohttp.ClientSession(
        connector=connector, headers=HEADERS, timeout=aiohttp.ClientTimeout(total=120)
    )


@dataclass
class Round:
    data: dict[str, PathData]
    other_cpu_percent: float  # other processes' CPU use during the round, in % of one CPU
    steal_percent: float


def merge(parts: list[PathData]) -> PathData:
    out = PathData()
    for part in parts:
        for name, value in part.__dict__.items():
            if isinstance(value, dict):
                for key, x in value.items():
                    out.c32_cpu[key] = out.c32_cpu.get(key, 0.0) + x
            else:
                setattr(out, name, getattr(out, name) + value)
    return out


async def interleaved(servers: dict[str, Server], settings: Settings, wait_budget: float) -> list[Round]:
    small = json.dumps(SMALL_CHAT).encode()
    stream = json.dumps(STREAM_CHAT).encode()
    rounds: list[Round] = []
    sessions = {path: session_for(32) for path in PATHS}
    urls = {path: servers[path].url + CHAT for path in PATHS}
    try:
        # Warm up: connections, the mock's answer cache, every code path of every server.
        for path in PATHS:
            scratch = PathData()
            await sequential(sessions[path], urls[path], small, 200, scratch)
            await concurrent(sessions[path], urls[path], small, 1.0, 32, scratch, servers)
            await streams(sessions[path], urls[path], stream, 5, scratch)
        for round_number in range(settings.rounds):
            # Give other sessions' bursts a moment to pass (within a budget for the whole run).
            started_waiting = time.monotonic()
            await asyncio.to_thread(wait_for_quiet, min(PER_ROUND_WAIT, wait_budget))
            wait_budget = max(0.0, wait_budget - (time.monotonic() - started_waiting))
            order = PATHS[round_number % 3 :] + PATHS[: round_number % 3]
            data = {path: PathData() for path in PATHS}
            watch = CpuWatch(servers).start()
            for path in order:
                await sequential(sessions[path], urls[path], small, settings.c1_requests, data[path])
            for path in order:
                await concurrent(
                    sessions[path], urls[path], small, settings.c32_seconds, 32, data[path], servers, path
                )
            for path in order:
                await streams(sessions[path], urls[path], stream, settings.streams, data[path])
            cpu = watch.stop()
            rounds.append(Round(data, cpu["other_processes_cpu_percent"], cpu["steal_percent"]))
            print(
                f"  round {round_number + 1}/{settings.rounds}: other processes "
                f"{cpu['other_processes_cpu_percent']:.0f}% of a CPU",
                file=sys.stderr,
                flush=True,
            )
    finally:
        for session in sessions.values():
            await session.close()
    return rounds


def quiet_rounds(rounds: list[Round], threshold: float) -> tuple[dict[str, PathData], list[int]]:
    """The rounds other processes left alone (all of them if fewer than three were), merged per path."""
    kept = [i for i, r in enumerate(rounds) if r.other_cpu_percent < threshold]
    if len(kept) < min(3, len(rounds)):
        kept = list(range(len(rounds)))
    return {path: merge([rounds[i].data[path] for i in kept]) for path in PATHS}, kept


async def many_streams(server: Server, count: int, ramp: float, poll: float = 0.02) -> dict[str, Any]:
    """``count`` streams at once through ``server``, opened over ``ramp`` seconds; its RSS throughout."""
    url = server.url + CHAT
    payload = json.dumps(LONG_STREAM).encode()
    small = json.dumps(SMALL_CHAT).encode()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, headers=HEADERS, timeout=aiohttp.ClientTimeout(total=300)
    ) as session:
        # Warm: every code path once, a few times, then let the process settle.
        warm = PathData()
        await sequential(session, url, small, 50, warm)
        await asyncio.gather(*(one_stream(session, url, payload) for _ in range(20)))
        await asyncio.sleep(1.0)
        before = server.rss_mb()
        hwm_reset = server.reset_hwm()
        watch = CpuWatch({server.name: server}).start()
        samples: list[tuple[float, float]] = []
        state = {"open": 0, "max_open": 0, "done": 0, "failed": 0}
        started = time.perf_counter()
        finished = asyncio.Event()

        async def sampler() -> None:
            while not finished.is_set():
                samples.append((time.perf_counter() - started, server.rss_mb()))
                await asyncio.sleep(poll)

        async def client(i: int) -> float:
            await asyncio.sleep(ramp * i / count)
            t0 = time.perf_counter()
            events = 0
            try:
                async with session.post(url, data=payload) as response:
                    if response.status != 200:
                        state["failed"] += 1
                        return 0.0
                    state["open"] += 1
                    state["max_open"] = max(state["max_open"], state["open"])
                    last, end = b"", b""
                    async for chunk in response.content.iter_any():
                        events += (last + chunk).count(b"\n\n")
                        last, end = chunk[-1:], (end + chunk)[-32:]
                    state["open"] -= 1
                    if b"[DONE]" not in end or events < 10:
                        state["failed"] += 1
                    else:
                        state["done"] += 1
            except (aiohttp.ClientError, TimeoutError):
                state["failed"] += 1
            return time.perf_counter() - t0

        sampling = asyncio.create_task(sampler())
        durations = await asyncio.gather(*(client(i) for i in range(count)))
        finished.set()
        await sampling
        elapsed = time.perf_counter() - started
        cpu = watch.stop()
        await asyncio.sleep(1.0)
        after = server.rss_mb()
    peak = max(rss for _, rss in samples)
    hwm = server.hwm_mb() if hwm_reset else None
    # A few points of the curve, for the JSON; not every sample.
    step = max(1, len(samples) // 20)
    return {
        "streams": count,
        "completed": state["done"],
        "failed": state["failed"],
        "max_open_at_once": state["max_open"],
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(max(peak, hwm or 0.0), 1),
        "rss_growth_mb": round(max(peak, hwm or 0.0) - before, 1),
        "rss_after_mb": round(after, 1),
        "seconds": round(elapsed, 2),
        "stream_seconds_p50": round(pct([d for d in durations if d], 0.5), 3),
        "stream_seconds_max": round(max(durations), 3),
        "server_cpu_percent": round(100 * cpu["process_cpu_seconds"][server.name] / cpu["seconds"], 1),
        "other_processes_cpu_percent": cpu["other_processes_cpu_percent"],
        "rss_curve": [(round(t, 2), round(r, 1)) for t, r in samples[::step]],
    }


# --- summary -------------------------------------------------------------------------------------------


def quiet_slices(d: PathData) -> dict[str, Any]:
    quiet = [i for i, other in enumerate(d.c32_other) if other < QUIET_THRESHOLD]
    return {
        "quiet_slices": len(quiet),
        "quiet_req_per_s_median": round(statistics.median(d.c32_rounds[i] for i in quiet)) if quiet else None,
        "quiet_server_cpu_us_per_request_median": (
            statistics.median(d.c32_hop_us[i] for i in quiet) if quiet and d.c32_hop_us else None
        ),
    }


def summarise(data: dict[str, PathData], settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    direct = data["direct"]
    for path in PATHS:
        d = data[path]
        rows = min(len(a) for p in PATHS for a in data[p].arrivals)
        # Median arrival of each event index; ``held`` = how much later than the first event the worst
        # later event arrives, beyond the direct path's own spacing.
        per_event = [statistics.median(a[i] for a in d.arrivals) for i in range(rows)]
        per_event_direct = [statistics.median(a[i] for a in direct.arrivals) for i in range(rows)]
        added_per_event = [p - q for p, q in zip(per_event, per_event_direct, strict=True)]
        out[path] = {
            "c1": {
                "requests": len(d.c1),
                "p50_ms": ms(pct(d.c1, 0.5)),
                "p99_ms": ms(pct(d.c1, 0.99)),
                "added_p50_ms": ms(pct(d.c1, 0.5) - pct(direct.c1, 0.5)),
                "added_p99_ms": ms(pct(d.c1, 0.99) - pct(direct.c1, 0.99)),
                "added_p50_ms_per_round": [
                    ms(a - b) for a, b in zip(d.c1_rounds, direct.c1_rounds, strict=True)
                ],
                "x_shim_overhead_ms_p50": ms(pct(d.overhead_header, 0.5)) if d.overhead_header else None,
            },
            "c32": {
                "answers": d.c32_answers,
                "errors": d.c32_errors,
                "req_per_s": round(d.c32_answers / d.c32_seconds, 1),
                "req_per_s_per_round": [round(x) for x in d.c32_rounds],
                "p50_ms": ms(pct(d.c32, 0.5)),
                "p99_ms": ms(pct(d.c32, 0.99)),
                "process_cpu_percent": {
                    name: round(100 * cpu / d.c32_seconds, 1) for name, cpu in d.c32_cpu.items()
                },
                # CPU time of the path's busiest server per answer: its capacity on one core, whatever
                # the load generator manages to send.
                "server_cpu_us_per_request": round(1e6 * d.c32_cpu.get(path, 0.0) / max(1, d.c32_answers), 1),
                # Slices (of every round) that other processes left alone: the figures least disturbed.
                **quiet_slices(d),
                "server_cpu_us_per_request_per_round": d.c32_hop_us,
                "other_processes_cpu_percent_per_round": d.c32_other,
                "cpu_busy_percent_per_round": d.c32_busy,
            },
            "stream": {
                "streams": len(d.first),
                "errors": d.stream_errors,
                "events_compared": rows,
                "first_p50_ms": ms(pct(d.first, 0.5)),
                "first_p99_ms": ms(pct(d.first, 0.99)),
                "end_p50_ms": ms(pct(d.end, 0.5)),
                "first_added_p50_ms": ms(pct(d.first, 0.5) - pct(direct.first, 0.5)),
                "end_added_p50_ms": ms(pct(d.end, 0.5) - pct(direct.end, 0.5)),
                "worst_event_added_ms": ms(max(added_per_event)),
                "held_back_ms": ms(max(added_per_event) - added_per_event[0]),
            },
        }
    return out


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def verdicts(summary: dict[str, Any], many: dict[str, Any], settings: Settings) -> dict[str, Any]:
    bare, shim = summary["bare"], summary["shim"]
    latency = ratio(shim["c1"]["added_p50_ms"], bare["c1"]["added_p50_ms"])
    # Throughput and capacity from the c=32 slices other processes left alone, when there are enough.
    quiet = min(bare["c32"]["quiet_slices"], shim["c32"]["quiet_slices"]) >= 3
    rps = "quiet_req_per_s_median" if quiet else "req_per_s"
    us = "quiet_server_cpu_us_per_request_median" if quiet else "server_cpu_us_per_request"
    throughput = ratio(shim["c32"][rps], bare["c32"][rps])
    capacity = ratio(bare["c32"][us], shim["c32"][us])
    first = ratio(shim["stream"]["first_added_p50_ms"], bare["stream"]["first_added_p50_ms"])
    # "Holds no chunk back": no later event arrives later (beyond the first event's added time) by as
    # much as the gap between two events.
    held = shim["stream"]["held_back_ms"]
    growth = many["shim"]["rss_growth_mb"]
    # The same ratios round by round (each round's slices are seconds apart): their spread shows the noise.
    latency_rounds = [
        ratio(s, b)
        for s, b in zip(
            shim["c1"]["added_p50_ms_per_round"], bare["c1"]["added_p50_ms_per_round"], strict=True
        )
    ]
    throughput_rounds = [
        ratio(s, b)
        for s, b in zip(shim["c32"]["req_per_s_per_round"], bare["c32"]["req_per_s_per_round"], strict=True)
    ]

    def spread(values: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(values), 2), "min": min(values), "max": max(values)}

    return {
        "added_latency_p50_shim_over_bare": {
            "value": latency,
            "target": "<= 1.5",
            "ok": latency <= 1.5,
            "per_round": spread(latency_rounds),
        },
        "throughput_c32_shim_over_bare": {
            "value": throughput,
            "target": ">= 0.7",
            "ok": throughput >= 0.7,
            "from": "median of quiet slices" if quiet else "all slices pooled",
            "per_round": spread(throughput_rounds),
        },
        "cpu_per_request_bare_over_shim": {
            "value": capacity,
            "target": ">= 0.7 (capacity)",
            "ok": capacity >= 0.7,
            "from": "median of quiet slices" if quiet else "all slices pooled",
        },
        "stream_first_event_added_shim_over_bare": {"value": first, "target": "<= 1.5", "ok": first <= 1.5},
        "stream_held_back_ms": {
            "value": held,
            "target": f"< {settings.chunk_ms} (one event gap)",
            "ok": held < settings.chunk_ms,
        },
        "rss_growth_mb_1000_streams": {
            "value": growth,
            "target": "< 100",
            "ok": growth < 100 and many["shim"]["completed"] == many["shim"]["streams"],
        },
    }


def print_table(
    summary: dict[str, Any],
    many: dict[str, Any],
    checks: dict[str, Any],
    rounds: list[Round],
    kept: list[int],
) -> None:
    print()
    print(
        "path    | c=1 p50   p99    added p50 | c=32 req/s  p99    hop CPU "
        "| stream first  added  end added  held"
    )
    for path in PATHS:
        s = summary[path]
        c1, c32, st = s["c1"], s["c32"], s["stream"]
        hop = c32["process_cpu_percent"].get(path, 0.0)
        print(
            f"{path:<7} | {c1['p50_ms']:6.3f} {c1['p99_ms']:6.3f}  {c1['added_p50_ms']:6.3f}    | "
            f"{c32['req_per_s']:9.0f} {c32['p99_ms']:6.2f}  {hop:5.0f}%  | "
            f"{st['first_p50_ms']:6.3f}  {st['first_added_p50_ms']:6.3f}  {st['end_added_p50_ms']:6.3f}  "
            f"{st['held_back_ms']:6.3f}"
        )
    print("(milliseconds; 'hop CPU' is the mock's for direct, the proxy's or shim's otherwise)")
    print(
        "server CPU per answer at c=32: "
        + ", ".join(f"{path} {summary[path]['c32']['server_cpu_us_per_request']:.0f} µs" for path in PATHS)
    )
    for path in ("bare", "shim"):
        c32 = summary[path]["c32"]
        if c32["quiet_slices"]:
            print(
                f"c=32 slices other processes left alone, {path}: {c32['quiet_slices']}, median "
                f"{c32['quiet_req_per_s_median']} req/s, "
                f"{c32['quiet_server_cpu_us_per_request_median']} µs/answer"
            )
    print()
    for name, row in many.items():
        print(
            f"{row['streams']} streams via {name}: RSS {row['rss_before_mb']} MB "
            f"-> peak {row['rss_peak_mb']} MB "
            f"(+{row['rss_growth_mb']} MB), {row['max_open_at_once']} open at once, "
            f"{row['completed']} complete, {row['failed']} failed, {name} CPU {row['server_cpu_percent']}%"
        )
    print()
    for name, check in checks.items():
        verdict = "ok" if check["ok"] else "MISSED"
        line = f"{name:<42} {check['value']:>7}  target {check['target']:<22} {verdict}"
        if "per_round" in check:
            r = check["per_round"]
            line += f"  (per round: median {r['median']}, {r['min']} to {r['max']})"
        print(line)
    bare_cpu = summary["bare"]["c32"]["process_cpu_percent"].get("bare", 0.0)
    if bare_cpu < 90:
        print(
            f"\nnote: the bare proxy used {bare_cpu:.0f}% of its CPU at c=32, so its req/s is held down by "
            "the load generator or other load, not by the proxy; the CPU-per-answer ratio is the hops' "
            "capacity."
        )
    other = [r.other_cpu_percent for r in rounds]
    print(
        f"\nrounds used: {len(kept)} of {len(rounds)} (others are dropped when other processes used "
        f"{QUIET_THRESHOLD:.0f}% or more of a CPU); other processes per round: {other}"
    )
    if len(kept) == len(rounds) and max(other) >= QUIET_THRESHOLD:
        print("WARNING: the machine was busy during most rounds; the figures are noisy.")


def wait_for_quiet(limit: float, threshold: float = QUIET_THRESHOLD, window: float = 0.5) -> float:
    """Wait up to ``limit`` s for other processes to use under ``threshold``% of a CPU; their last share."""
    deadline = time.monotonic() + limit
    while True:
        watch = CpuWatch({}).start()
        time.sleep(window)
        other = watch.stop()["other_processes_cpu_percent"]
        if other < threshold or time.monotonic() > deadline:
            return other
        print(f"  other processes use {other:.0f}% of a CPU; waiting for a quiet machine", file=sys.stderr)


def machine(available: list[int]) -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpus_available": len(available),
        "cpu_model": model,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, shorter slices (a smoke run)")
    parser.add_argument("--json", type=Path, help="default bench/results/shim-<date>-<time>.json")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=60.0,
        help="seconds to wait in all, at the start and between rounds, for other processes to go idle",
    )
    args = parser.parse_args()
    started_waiting = time.monotonic()
    other_load = wait_for_quiet(args.wait_quiet / 2)
    wait_budget = args.wait_quiet - (time.monotonic() - started_waiting)
    settings = QUICK if args.quick else FULL
    began = time.perf_counter()

    available = cpus()
    if len(available) > 1:
        hop_cpu, mock_cpu = available[0], available[1]
        os.sched_setaffinity(0, {mock_cpu})  # the load generator shares the mock's CPU
    else:
        hop_cpu = mock_cpu = None
    layout = {
        "mock": mock_cpu,
        "bare_proxy_and_shim": hop_cpu,
        "load_generator": mock_cpu,
    }

    servers = start_all(settings.chunk_ms, hop_cpu, mock_cpu)
    try:
        rounds = asyncio.run(interleaved(servers, settings, wait_budget))
    finally:
        for server in servers.values():
            server.stop()
    data, kept = quiet_rounds(rounds, QUIET_THRESHOLD)
    summary = summarise(data, settings)

    # 1,000 streams: a mock paced slowly enough that every stream is open at once, fresh hops in front.
    many: dict[str, Any] = {}
    mock = launch(
        "mock",
        ["-m", "mockserver", "serve", "--log-level", "WARNING", "--chunk-ms", str(settings.many_chunk_ms)],
        mock_cpu,
    )
    try:
        for name, argv in (
            ("shim", ["-m", "shim", "serve", "--upstream", mock.url]),
            ("bare", ["-m", "bench.bare_proxy", "--upstream", mock.url]),
        ):
            hop = launch(name, argv, hop_cpu)
            try:
                many[name] = asyncio.run(many_streams(hop, settings.many_streams, settings.many_ramp_seconds))
            finally:
                hop.stop()
    finally:
        mock.stop()

    checks = verdicts(summary, many, settings)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "mode": "quick" if args.quick else "full",
        "settings": settings.__dict__,
        "machine": machine(available),
        "cpu_layout": layout,
        "other_processes_cpu_percent_at_start": other_load,
        "rounds_used": kept,
        "other_processes_cpu_percent_per_round": [r.other_cpu_percent for r in rounds],
        "steal_percent_per_round": [r.steal_percent for r in rounds],
        "paths": summary,
        "many_streams": many,
        "checks": checks,
        "wall_seconds": round(time.perf_counter() - began, 1),
    }
    print_table(summary, many, checks, rounds, kept)
    target = args.json or ROOT / "bench" / "results" / f"shim-{time.strftime('%Y-%m-%d-%H%M%S')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=1))
    print(f"\nraw figures: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    print(f"wall time: {results['wall_seconds']} s")


if __name__ == "__main__":
    main()
