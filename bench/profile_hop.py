"""Where a hop spends its CPU under one workload: py-spy samples of the shim (or the bare proxy) while the
load generator drives it, summed per function, next to its CPU time per answer.

For a target ``make bench`` reports missed: run this on the workload that missed it, read the functions
with the most samples, change one, run it again. py-spy is not a project dependency (``pip install
py-spy`` anywhere; pass its path with ``--py-spy``). Linux may need ``--sudo``-like rights to attach; as
root it just works.

    .venv/bin/python -m bench.profile_hop --hop shim --workload embeddings --concurrency 16 --seconds 10
"""

import argparse
import asyncio
import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import loadgen
from bench.mock_bench import cpus
from bench.shim_bench import CpuWatch, launch
from bench.workloads import ALL, STREAM_GAP_MS

HOPS = {"shim": ["-m", "shim", "serve", "--upstream"], "bare": ["-m", "bench.bare_proxy", "--upstream"]}


def summarise(raw: Path, top: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """Self and inclusive samples per function from py-spy's collapsed stacks (``frame;frame;... count``)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    return own.most_common(top), inclusive.most_common(top), total


async def drive(
    url: str, body: bytes, concurrency: int, seconds: float, stream: bool, watch: CpuWatch
) -> tuple[loadgen.Slice, dict]:
    """Warm up for a second, then load for ``seconds`` with ``watch`` counting the hop's CPU time."""
    async with loadgen.session() as client:
        await loadgen.run(client, url, body, concurrency, 1.0, stream)
        watch.start()
        part = await loadgen.run(client, url, body, concurrency, seconds, stream)
        return part, watch.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hop", choices=sorted(HOPS), default="shim")
    parser.add_argument("--workload", choices=[w.name for w in ALL], default="small")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--out", type=Path, help="keep the collapsed stacks here")
    args = parser.parse_args()
    workload = next(w for w in ALL if w.name == args.workload)
    available = cpus()
    hop_cpu, mock_cpu = (available[0], available[1]) if len(available) > 1 else (None, None)
    if mock_cpu is not None:
        os.sched_setaffinity(0, {mock_cpu})
    mock_argv = ["-m", "mockserver", "serve", "--log-level", "WARNING", "--chunk-ms", str(STREAM_GAP_MS)]
    mock = launch("mock", mock_argv, mock_cpu)
    hop = launch(args.hop, [*HOPS[args.hop], mock.url], hop_cpu)
    raw = args.out or Path(tempfile.mkdtemp()) / "stacks.txt"
    try:
        command = [args.py_spy, "record", "--pid", str(hop.process.pid), "--format", "raw"]
        command += ["--output", str(raw), "--duration", str(int(args.seconds + 2)), "--rate", "250"]
        spy = subprocess.Popen(
            [*command, "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = hop.url + workload.route
        watch = CpuWatch({args.hop: hop})
        part, cpu = asyncio.run(
            drive(url, workload.body, args.concurrency, args.seconds, workload.stream, watch)
        )
        spy.wait()
    finally:
        hop.stop()
        mock.stop()
    hop_seconds = cpu["process_cpu_seconds"][args.hop]
    print(
        f"{args.hop}, {workload.title}, c={args.concurrency}: {part.answered / part.elapsed:.0f} answers/s, "
        f"{part.errors} errors; {args.hop} CPU {1e6 * hop_seconds / max(1, part.answered):.0f} µs per answer"
    )
    if not raw.exists():
        print(f"no samples: py-spy did not run ({args.py_spy})", file=sys.stderr)
        return
    own, inclusive, total = summarise(raw, args.top)
    print(f"\n{total} samples. Self time:")
    for frame, samples in own:
        print(f"  {100 * samples / total:5.1f}%  {frame}")
    print("\nInclusive time:")
    for frame, samples in inclusive:
        print(f"  {100 * samples / total:5.1f}%  {frame}")
    print(f"\ncollapsed stacks: {raw}")


if __name__ == "__main__":
    main()
