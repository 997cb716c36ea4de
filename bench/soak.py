"""Soak: many mixed requests through shim → mock, and nothing may go wrong or grow.

Both servers run as real processes on loopback (``mistral-mock serve`` and ``mistral-shim serve``); an
aiohttp client sends a mix of streaming and non-streaming chat, FIM completions, embeddings and model
listings through the shim at a fixed concurrency. A warm-up sends every distinct request once first, so
what the servers keep on purpose (the mock's answer cache, the shim's connection pool, the tokenizers) is
built before measuring starts. Then:

* errors: every answer must be a 200 with a complete body (a JSON object, or an SSE stream that ends with
  ``data: [DONE]``); anything else, a transport error included, is counted and fails the run;
* memory: each server's resident set (VmRSS, /proc/PID/status) is sampled as requests complete; the
  largest sample of the last quarter may exceed that of the second quarter by at most ``--max-growth``
  (10 %): a leak of a few hundred bytes per request shows as steady growth across the run;
* file descriptors: each server's open descriptors (/proc/PID/fd) are counted once the client has closed
  its connections and the counts have settled, after the warm-up and after the run. The shim keeps a pool
  of idle connections to the mock on purpose, and a run with a busier moment than the warm-up's grows it,
  so those connections (established TCP between the two, found through /proc/PID/net/tcp) are counted
  apart: the pool may hold at most one connection per client worker (``--concurrency``: the shim never
  has more requests upstream at once), and every other descriptor may exceed its warm-up count by at
  most ``--fd-slack`` (2), so a socket or file leaked per request, or per hundred, shows.

    .venv/bin/python -m bench.soak                      # 10,000 requests at concurrency 200
    .venv/bin/python -m bench.soak --requests 1000 --concurrency 50 --json out.json

Prints a summary and exits 1 when any check fails. ``tests/system/test_load_smoke.py`` runs a short version of
the same code in ``make test``.
"""

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
KEY = "soak-client-key"
HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
# Distinct requests in the mix; the run cycles through them, so caches fill during the warm-up.
DISTINCT = 240
TOPICS = (
    "the weather in Paris",
    "a haiku about rivers",
    "prime numbers",
    "sourdough bread",
    "TCP slow start",
)


@dataclass(frozen=True)
class Call:
    """One request of the mix: method, path, body (None for GET) and whether the answer is a stream."""

    kind: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    stream: bool = False


def _chat(n: int, stream: bool) -> Call:
    body = {
        "model": "mistral-small-latest",
        "messages": [{"role": "user", "content": f"Tell me about {TOPICS[n % len(TOPICS)]} ({n})."}],
        "max_tokens": 16 + n % 48,
        "stream": stream,
    }
    return Call("chat-stream" if stream else "chat", "POST", "/v1/chat/completions", body, stream)


def _completion(n: int, stream: bool) -> Call:
    body = {
        "model": "codestral-latest",
        "prompt": f"def f{n}(x):",
        "suffix": "    return y",
        "max_tokens": 24,
    }
    body["stream"] = stream
    return Call("completion-stream" if stream else "completion", "POST", "/v1/completions", body, stream)


def _embeddings(n: int, stream: bool) -> Call:
    body = {"model": "mistral-embed", "input": [f"sentence {n}", TOPICS[n % len(TOPICS)]]}
    return Call("embeddings", "POST", "/v1/embeddings", body)


def _models(n: int, stream: bool) -> Call:
    return Call("models", "GET", "/v1/models")


# The mix, by weight: half streams, as chat traffic tends to be.
MIX = (
    (_chat, False, 3),
    (_chat, True, 4),
    (_completion, False, 1),
    (_completion, True, 1),
    (_embeddings, False, 2),
    (_models, False, 1),
)


def distinct_calls(count: int = DISTINCT, seed: int = 7) -> list[Call]:
    """``count`` different requests drawn from the mix (deterministic)."""
    rng = random.Random(seed)
    weighted = [(make, stream) for make, stream, weight in MIX for _ in range(weight)]
    return [make(n, stream) for n, (make, stream) in enumerate(rng.choice(weighted) for _ in range(count))]


def schedule(total: int, calls: list[Call], seed: int = 11) -> list[Call]:
    """``total`` requests cycling through ``calls`` in a shuffled order."""
    rng = random.Random(seed)
    out = [calls[i % len(calls)] for i in range(total)]
    rng.shuffle(out)
    return out


# --- the servers ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env() -> dict[str, str]:
    """This environment without Mistral, shim or mock settings, so the servers run as configured here."""
    prefixes = ("MISTRAL_", "SHIM_", "MOCK_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.process.pid


def _wait_healthy(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with status {server.process.returncode}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not answer /health within {timeout} s")


def _launch(name: str, command: list[str], log: Path) -> Server:
    port = free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", *command, "--port", str(port), "--log-level", "WARNING"],
            cwd=ROOT,
            env=child_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(name, f"http://127.0.0.1:{port}", process)
    try:
        _wait_healthy(server)
    except BaseException:
        _stop(server)
        raise
    return server


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(5)


@contextmanager
def servers(log_dir: Path) -> Iterator[tuple[Server, Server]]:
    """A mock and a shim in front of it, as processes; their output goes to ``log_dir``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    mock = _launch("mock", ["mockserver", "serve"], log_dir / "mock.log")
    try:
        shim = _launch("shim", ["shim", "serve", "--upstream", mock.url], log_dir / "shim.log")
        try:
            yield mock, shim
        finally:
            _stop(shim)
    finally:
        _stop(mock)


# --- measuring ------------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident memory of a process, in KiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets ``pid`` holds open (``socket:[INODE]`` links under /proc/PID/fd)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed between listing and reading
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def pooled_connections(pid: int, port: int) -> int:
    """Established TCP connections ``pid`` holds with one end at ``port`` (the mock's): the shim's pool.

    /proc/PID/net/tcp lists every IPv4 socket of the process's network namespace as ``local remote state
    ... inode``, addresses as hex ``ADDR:PORT``; state 01 is ESTABLISHED.
    """
    held = _socket_inodes(pid)
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        ends = {int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)}
        if state == "01" and port in ends and inode in held:
            count += 1
    return count


@dataclass
class Sample:
    done: int
    rss_kib: dict[str, int]
    fds: dict[str, int]


@dataclass
class Report:
    requests: int
    concurrency: int
    seconds: float = 0.0
    outcomes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    fds_after_warmup: dict[str, int] = field(default_factory=dict)
    fds_after_run: dict[str, int] = field(default_factory=dict)
    # Of those descriptors, the connections between shim and mock (the shim's upstream pool).
    pool_after_warmup: dict[str, int] = field(default_factory=dict)
    pool_after_run: dict[str, int] = field(default_factory=dict)

    def quarter_peak(self, name: str, quarter: int) -> int:
        """The largest RSS sample of ``name`` taken while quarter ``quarter`` (1-4) of the run completed."""
        low, high = self.requests * (quarter - 1) / 4, self.requests * quarter / 4
        values = [s.rss_kib[name] for s in self.samples if low < s.done <= high]
        return max(values) if values else 0

    def growth(self, name: str) -> float:
        """RSS growth from the second quarter to the last, as a fraction of the second's."""
        second, last = self.quarter_peak(name, 2), self.quarter_peak(name, 4)
        return (last - second) / second if second else 0.0


def failures(report: Report, max_growth: float, fd_slack: int) -> list[str]:
    """What went wrong, one sentence each; empty when the run passed."""
    found = []
    if report.errors:
        found.append(
            f"{sum(report.errors.values())} errors: {dict(report.errors)}; first: {report.first_errors}"
        )
    if sum(report.outcomes.values()) != report.requests:
        found.append(f"{sum(report.outcomes.values())} answers counted for {report.requests} requests")
    for name in report.fds_after_run:
        growth = report.growth(name)
        if growth > max_growth:
            found.append(f"{name}: resident memory grew {growth:.1%} from the second quarter to the last")
        before = report.fds_after_warmup[name] - report.pool_after_warmup[name]
        after = report.fds_after_run[name] - report.pool_after_run[name]
        if after - before > fd_slack:
            found.append(
                f"{name}: {before} open file descriptors besides the shim's pool after the warm-up, "
                f"{after} after the run"
            )
        if report.pool_after_run[name] > report.concurrency:
            found.append(
                f"{name}: {report.pool_after_run[name]} connections between shim and mock after the run, "
                f"more than the {report.concurrency} requests ever in flight"
            )
    return found


# --- driving --------------------------------------------------------------------------------------------


async def _one(session: aiohttp.ClientSession, url: str, call: Call) -> str | None:
    """Send one call; None when the answer is a complete 200, else what was wrong with it."""
    try:
        async with session.request(call.method, url + call.path, json=call.body) as response:
            raw = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"{call.kind}: {type(exc).__name__}: {exc}"
    if response.status != 200:
        return f"{call.kind}: HTTP {response.status}: {raw[:200]!r}"
    if call.stream:
        if not raw.rstrip().endswith(b"data: [DONE]"):
            return f"{call.kind}: stream without [DONE]: {raw[-200:]!r}"
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        return f"{call.kind}: body is not JSON: {raw[:200]!r}"
    return None if isinstance(parsed, dict) else f"{call.kind}: body is not an object"


async def _drive(
    url: str, calls: list[Call], concurrency: int, report: Report | None, pids: dict[str, int], every: int
) -> None:
    """Send ``calls`` with ``concurrency`` workers over one keep-alive pool; count and sample if reporting."""
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=300)
    timeout = aiohttp.ClientTimeout(total=120)
    queue = iter(enumerate(calls))
    done = 0
    async with aiohttp.ClientSession(headers=HEADERS, connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            nonlocal done
            for _, call in queue:
                problem = await _one(session, url, call)
                done += 1
                if report is None:
                    if problem:
                        raise RuntimeError(f"warm-up failed: {problem}")
                    continue
                report.outcomes[call.kind] += 1
                if problem:
                    report.errors[call.kind] += 1
                    if len(report.first_errors) < 5:
                        report.first_errors.append(problem)
                if done % every == 0 or done == len(calls):
                    report.samples.append(
                        Sample(
                            done,
                            {n: rss_kib(p) for n, p in pids.items()},
                            {n: open_fds(p) for n, p in pids.items()},
                        )
                    )

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _warm_and_run(
    url: str, total: int, concurrency: int, pids: dict[str, int], warmup_rounds: int, upstream_port: int
) -> Report:
    report = Report(total, concurrency)
    calls = distinct_calls()
    # Every distinct request, at full concurrency: caches and pools reach their size.
    await _drive(url, calls * warmup_rounds, concurrency, None, pids, every=1)
    report.fds_after_warmup = await _settled_fds(pids)
    report.pool_after_warmup = {n: pooled_connections(p, upstream_port) for n, p in pids.items()}
    started = time.monotonic()
    await _drive(url, schedule(total, calls), concurrency, report, pids, every=max(1, total // 100))
    report.seconds = time.monotonic() - started
    report.fds_after_run = await _settled_fds(pids)
    report.pool_after_run = {n: pooled_connections(p, upstream_port) for n, p in pids.items()}
    return report


async def _settled_fds(pids: dict[str, int], quiet: float = 0.3, timeout: float = 5) -> dict[str, int]:
    """Open fds once the client's connections are closed and the counts stop moving."""
    counts = {n: open_fds(p) for n, p in pids.items()}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = {n: open_fds(p) for n, p in pids.items()}
        if now == counts:
            break
        counts = now
    return counts


def run(total: int, concurrency: int, log_dir: Path, warmup_rounds: int = 2) -> Report:
    """Start both servers, warm them, send ``total`` requests, and report (the servers are stopped after)."""
    with servers(log_dir) as (mock, shim):
        pids = {"mock": mock.pid, "shim": shim.pid}
        mock_port = int(mock.url.rsplit(":", 1)[1])
        return asyncio.run(_warm_and_run(shim.url, total, concurrency, pids, warmup_rounds, mock_port))


def summary(report: Report, problems: list[str]) -> str:
    lines = [
        f"{report.requests} requests at concurrency {report.concurrency} through shim -> mock "
        f"in {report.seconds:.1f} s ({report.requests / max(report.seconds, 1e-9):.0f}/s)",
        "mix: " + ", ".join(f"{kind} {count}" for kind, count in sorted(report.outcomes.items())),
        f"errors: {sum(report.errors.values())}",
    ]
    for name in report.fds_after_run:
        peaks = [report.quarter_peak(name, q) / 1024 for q in (1, 2, 3, 4)]
        lines.append(
            f"{name}: RSS peak per quarter {' / '.join(f'{p:.1f}' for p in peaks)} MiB "
            f"(growth Q2->Q4 {report.growth(name):+.1%}); open fds {report.fds_after_warmup[name]} after "
            f"warm-up ({report.pool_after_warmup[name]} shim-mock connections), "
            f"{report.fds_after_run[name]} after the run ({report.pool_after_run[name]})"
        )
    lines.append("PASS" if not problems else "FAIL:\n  " + "\n  ".join(problems))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--max-growth", type=float, default=0.10, help="RSS growth allowed, Q2 to Q4")
    parser.add_argument("--fd-slack", type=int, default=2, help="extra open fds allowed after the run")
    parser.add_argument("--logs", type=Path, default=Path("/tmp/mistral-compat-soak"), help="server output")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    report = run(args.requests, args.concurrency, args.logs)
    problems = failures(report, args.max_growth, args.fd_slack)
    print(summary(report, problems))
    if args.json:
        data = {
            **asdict(report),
            # asdict rebuilds a Counter from its items, counting them: these two are copied as dicts.
            "outcomes": dict(report.outcomes),
            "errors": dict(report.errors),
            "growth": {name: report.growth(name) for name in report.fds_after_run},
            "problems": problems,
        }
        args.json.write_text(json.dumps(data, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
