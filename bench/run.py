"""``make bench``: the shim and the mock side by side with a bare proxy and LiteLLM, as ratios, with plots.

Starts every server itself on 127.0.0.1, pins the hops and the load generator to different CPUs, measures
the four paths interleaved (bench/matrix.py), then the mock alone, replay, the replay index and 1,000
concurrent streams through the shim (bench/standalone.py), and writes:

* bench/results/<date>.json      the raw figures
* bench/plots/*.png              latency percentiles, throughput, memory under 1,000 streams
* bench/RESULTS.md               every table
* README.md, "## Performance"    the plots, the targets met or missed, the shim as ratios to bare and LiteLLM

    .venv/bin/python -m bench.run            # everything, under 10 minutes on 2 cores
    .venv/bin/python -m bench.run --quick    # for development: writes only bench/results/quick/
    .venv/bin/python -m bench.run --report-only bench/results/<date>.json   # re-render from a JSON
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench import litellm_proxy, matrix, plots, report, standalone, targets
from bench.mock_bench import cpus
from bench.shim_bench import Server, start_all, wait_for_quiet
from bench.workloads import ALL, STREAM_GAP_MS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PLOTS = ROOT / "bench" / "plots"
QUICK_OUT = RESULTS / "quick"  # ignored by git (bench/.gitignore)

FULL = {
    "plan": matrix.Plan(rounds=2, seconds=1.0),
    "mock_seconds": 3.0,
    "replay_seconds": 3.0,
    "index_sizes": (1000, 10_000, 100_000),
    "many_streams_hops": ("shim", "bare"),
    "wait_quiet": 10.0,
}
QUICK = {
    "plan": matrix.Plan(rounds=1, seconds=0.5, warm_seconds=0.2),
    "mock_seconds": 1.0,
    "replay_seconds": 1.0,
    "index_sizes": (1000, 10_000),
    "many_streams_hops": ("shim",),
    "wait_quiet": 5.0,
}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cpu_model": model or platform.processor(),
        "nproc": os.cpu_count(),
        "cpus_available": len(cpus()),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "kernel": f"{platform.system()} {platform.release()}",
    }


def measure_paths(settings: dict[str, Any], hop_cpu: int | None, mock_cpu: int | None, lite: bool) -> dict:
    """Start mock, bare proxy, shim and (when installed) LiteLLM; run the matrix; stop them all."""
    servers: dict[str, Server] = start_all(STREAM_GAP_MS, hop_cpu, mock_cpu)
    try:
        if lite:
            proxy = litellm_proxy.start(servers["direct"].url, hop_cpu)
            if proxy is not None:
                servers["litellm"] = proxy
        print(f"  paths: {', '.join(servers)}", file=sys.stderr, flush=True)
        return {"paths": list(servers), "matrix": matrix.run(servers, settings["plan"])}
    finally:
        for server in servers.values():
            server.stop()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    settings = QUICK if args.quick else FULL
    began = time.perf_counter()
    litellm_version = None
    if not args.no_litellm:
        litellm_version = litellm_proxy.ensure_venv(
            args.litellm_version, ROOT / "bench" / "litellm-install.log"
        )
    available = cpus()
    hop_cpu, mock_cpu = (available[0], available[1]) if len(available) > 1 else (None, None)
    waited = wait_for_quiet(settings["wait_quiet"])
    if mock_cpu is not None:
        os.sched_setaffinity(0, {mock_cpu})  # the load generator shares the mock's CPU, never the hop's
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "mode": "quick" if args.quick else "full",
        "command": ".venv/bin/python -m bench.run --quick" if args.quick else "make bench",
        "machine": machine(),
        "litellm_version": None,
        "cpu_layout": {"hops": hop_cpu, "mock_and_load_generator": mock_cpu},
        "plan": {**settings["plan"].__dict__, "workloads": [w.name for w in settings["plan"].workloads]},
        "workload_titles": {w.name: w.title for w in ALL},
        "stream_gap_ms": STREAM_GAP_MS,
        "other_processes_cpu_percent_at_start": waited,
    }
    phases = {"litellm install check and quiet wait": round(time.perf_counter() - began, 1)}

    def phase(name: str, key: str, work: Callable[[], Any]) -> None:
        print(name, file=sys.stderr, flush=True)
        started = time.perf_counter()
        value = work()
        if key == "paths":
            results.update(value)
        else:
            results[key] = value
        phases[name] = round(time.perf_counter() - started, 1)

    phase(
        "four paths", "paths", lambda: measure_paths(settings, hop_cpu, mock_cpu, litellm_version is not None)
    )
    if "litellm" in results["paths"]:
        results["litellm_version"] = litellm_version
    phase("the mock alone", "mock_alone", lambda: standalone.mock_alone(hop_cpu, settings["mock_seconds"]))
    phase("replay", "replay", lambda: standalone.replay(settings["replay_seconds"]))
    phase("replay index", "replay_index", lambda: standalone.replay_index(settings["index_sizes"]))
    phase(
        "1,000 concurrent streams",
        "many_streams",
        lambda: standalone.many_streams(hop_cpu, mock_cpu, settings["many_streams_hops"]),
    )
    results["phase_seconds"] = phases
    others = [
        other
        for by_c in results["matrix"].values()
        for cells in by_c.values()
        for cell in cells.values()
        if (other := cell["other_processes_cpu_percent_median"]) is not None
    ]
    results["other_processes_cpu_percent_median"] = statistics.median(others) if others else None
    results["wall_seconds"] = round(time.perf_counter() - began, 1)
    return results


def load(path: Path) -> dict[str, Any]:
    """A results JSON with its concurrency keys back to integers."""
    results = json.loads(path.read_text())
    results["matrix"] = {
        w: {int(c): cells for c, cells in by_c.items()} for w, by_c in results["matrix"].items()
    }
    return results


KEPT = "<!-- Sections below are written by standalone benchmarks; make bench keeps them. -->"


def kept_sections(results_md: Path) -> str:
    """What standalone benchmarks (bench/store_bench.py) wrote below the ``KEPT`` marker of RESULTS.md,
    carried over when this run rewrites the file."""
    text = results_md.read_text() if results_md.exists() else ""
    return "\n" + KEPT + text.split(KEPT, 1)[1] if KEPT in text else ""


def publish(results: dict[str, Any], target: Path) -> None:
    """Targets, JSON, plots, RESULTS.md and the README section from one run's results.

    A quick run writes its JSON, plots and RESULTS.md into bench/results/quick/ and leaves the published
    ones (bench/plots/, bench/RESULTS.md, the README) alone: its figures are for development only.
    """
    quick = results.get("mode") == "quick"
    folder = QUICK_OUT if quick else ROOT / "bench"
    results["json"] = target.relative_to(ROOT).as_posix() if target.is_relative_to(ROOT) else str(target)
    results["targets"] = targets.check(results)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=1))
    made = plots.all_plots(results, QUICK_OUT if quick else PLOTS)
    (folder / "RESULTS.md").write_text(
        report.results_markdown(results, made, folder) + kept_sections(folder / "RESULTS.md")
    )
    if not quick:
        report.write_readme(ROOT / "README.md", report.readme_section(results, made, ROOT))
    for row in results["targets"]:
        print(f"{report.verdict(row['ok']):>12}  {row['target']}: {row['measure']} -> {row['value']}")
    written = [results["json"], (folder / "RESULTS.md").relative_to(ROOT).as_posix()]
    written += [p.relative_to(ROOT).as_posix() for p in made] + ([] if quick else ["README.md"])
    print(f"\nwritten: {', '.join(written)}")
    print(f"wall time of the measurements: {results['wall_seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short slices, one round, a smaller index")
    parser.add_argument("--no-litellm", action="store_true", help="leave the litellm path out")
    parser.add_argument("--litellm-version", default=litellm_proxy.VERSION)
    parser.add_argument(
        "--json", type=Path, help="where the raw figures go (default bench/results/<date>.json)"
    )
    parser.add_argument(
        "--report-only", type=Path, metavar="JSON", help="re-render outputs from a results JSON"
    )
    args = parser.parse_args()
    if args.report_only:
        results = load(args.report_only)
        publish(results, args.report_only)
        return
    results = measure(args)
    default = (QUICK_OUT if args.quick else RESULTS) / f"{time.strftime('%Y-%m-%d')}.json"
    publish(results, args.json or default)


if __name__ == "__main__":
    main()
