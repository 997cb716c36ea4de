"""Every path under every workload at every concurrency, interleaved so machine noise hits all paths alike.

For each concurrency level, each workload is measured in rounds; within a round every path gets one slice
of load, in an order that rotates from round to round. A burst from another process on this shared machine
therefore lands on one slice of each path in turn rather than on one path's whole measurement. Each slice
also records the CPU time its path's server used (from /proc), which gives each hop's capacity on one core
whatever the load generator manages to send, and how much CPU other processes took meanwhile.
"""

import asyncio
import statistics
import sys
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench import loadgen
from bench.shim_bench import CpuWatch, Server, pct
from bench.workloads import ALL, Workload

MIN_CPU_SECONDS = 0.1


@dataclass(frozen=True)
class Plan:
    """How long to measure: ``rounds`` slices of ``seconds`` per path, workload and concurrency."""

    concurrency: tuple[int, ...] = (1, 16, 64, 256)
    workloads: tuple[Workload, ...] = ALL
    rounds: int = 2
    seconds: float = 1.0
    warm_seconds: float = 0.3


@dataclass
class Cell:
    """All slices of one path, one workload, one concurrency."""

    latencies: list[float] = field(default_factory=list)
    first_event: list[float] = field(default_factory=list)
    answered: int = 0
    errors: int = 0
    error_sample: str | None = None
    seconds: float = 0.0
    server_cpu_seconds: float = 0.0
    mock_cpu_seconds: float = 0.0
    rates: list[float] = field(default_factory=list)  # answers/s per slice
    slice_p50: list[float | None] = field(
        default_factory=list
    )  # per slice (round), the first event's for streams
    other_cpu_percent: list[float] = field(default_factory=list)  # other processes, per slice

    def add(self, part: loadgen.Slice, cpu: dict[str, Any], path: str) -> None:
        self.latencies += part.latencies
        self.first_event += part.first_event
        self.answered += part.answered
        self.errors += part.errors
        self.error_sample = self.error_sample or part.error_sample
        self.seconds += part.elapsed
        self.server_cpu_seconds += cpu["process_cpu_seconds"].get(path, 0.0)
        self.mock_cpu_seconds += cpu["process_cpu_seconds"].get("direct", 0.0)
        self.rates.append(part.answered / part.elapsed if part.elapsed else 0.0)
        timed = part.first_event or part.latencies
        self.slice_p50.append(statistics.median(timed) if timed else None)
        self.other_cpu_percent.append(cpu["other_processes_cpu_percent"])

    def summary(self) -> dict[str, Any]:
        """Percentiles in milliseconds, rates per second, CPU per answer in microseconds."""

        def ms(values: list[float], q: float) -> float | None:
            return round(pct(values, q) * 1000, 3) if values else None

        answered = max(1, self.answered)
        # /proc counts CPU time in ticks of 10 ms: under MIN_CPU_SECONDS the per-answer figure is noise.
        counted = self.server_cpu_seconds >= MIN_CPU_SECONDS
        out: dict[str, Any] = {
            "answered": self.answered,
            "errors": self.errors,
            "error_sample": self.error_sample,
            "req_per_s": round(self.answered / self.seconds, 1) if self.seconds else 0.0,
            "req_per_s_per_slice": [round(r, 1) for r in self.rates],
            "p50_ms_per_slice": [None if x is None else round(x * 1000, 3) for x in self.slice_p50],
            "p50_ms": ms(self.latencies, 0.5),
            "p90_ms": ms(self.latencies, 0.9),
            "p99_ms": ms(self.latencies, 0.99),
            "max_ms": round(max(self.latencies) * 1000, 3) if self.latencies else None,
            "server_cpu_us_per_request": (
                round(1e6 * self.server_cpu_seconds / answered, 1) if counted else None
            ),
            "server_cpu_seconds": round(self.server_cpu_seconds, 2),
            "server_cpu_percent": round(100 * self.server_cpu_seconds / self.seconds, 1)
            if self.seconds
            else 0,
            "mock_cpu_us_per_request": (
                round(1e6 * self.mock_cpu_seconds / answered, 1)
                if self.mock_cpu_seconds >= MIN_CPU_SECONDS
                else None
            ),
            "other_processes_cpu_percent_median": (
                statistics.median(self.other_cpu_percent) if self.other_cpu_percent else None
            ),
        }
        if self.first_event:
            out["first_event_p50_ms"] = ms(self.first_event, 0.5)
            out["first_event_p99_ms"] = ms(self.first_event, 0.99)
        return out


def _rotated(paths: list[str], turn: int) -> list[str]:
    shift = turn % len(paths)
    return paths[shift:] + paths[:shift]


async def measure(servers: dict[str, Server], plan: Plan) -> dict[str, dict[int, dict[str, dict[str, Any]]]]:
    """Run the plan; ``result[workload][concurrency][path]`` is a :meth:`Cell.summary`.

    ``servers`` maps each path to the server the client talks to (``direct`` is the mock itself).
    """
    paths = list(servers)
    sessions: dict[str, aiohttp.ClientSession] = {path: loadgen.session() for path in paths}
    cells: dict[str, dict[int, dict[str, Cell]]] = {
        w.name: {c: {p: Cell() for p in paths} for c in plan.concurrency} for w in plan.workloads
    }
    turn = 0
    try:
        for concurrency in plan.concurrency:
            # Open this many connections on every path and warm every code path before measuring.
            for path in paths:
                for workload in plan.workloads:
                    url = servers[path].url + workload.route
                    await loadgen.run(
                        sessions[path], url, workload.body, concurrency, plan.warm_seconds, workload.stream
                    )
            for workload in plan.workloads:
                for _ in range(plan.rounds):
                    for path in _rotated(paths, turn):
                        url = servers[path].url + workload.route
                        watch = CpuWatch(servers).start()
                        part = await loadgen.run(
                            sessions[path], url, workload.body, concurrency, plan.seconds, workload.stream
                        )
                        cells[workload.name][concurrency][path].add(part, watch.stop(), path)
                    turn += 1
                line = ", ".join(
                    f"{p} {cells[workload.name][concurrency][p].summary()['req_per_s']:.0f}/s" for p in paths
                )
                print(f"  c={concurrency:<3} {workload.name:<10} {line}", file=sys.stderr, flush=True)
    finally:
        for client in sessions.values():
            await client.close()
    return {
        w: {c: {p: cell.summary() for p, cell in by_path.items()} for c, by_path in by_c.items()}
        for w, by_c in cells.items()
    }


def run(servers: dict[str, Server], plan: Plan) -> dict[str, dict[int, dict[str, dict[str, Any]]]]:
    """:func:`measure` on a fresh event loop."""
    return asyncio.run(measure(servers, plan))
