"""Markdown from one run's results: bench/RESULTS.md (every table) and the README's Performance section
(the plots, the targets, and the shim's figures as ratios to ``bare`` and to ``litellm``).

Both are generated so the figures a reader sees are the ones the last ``make bench`` measured; the README
is rewritten only between its ``bench:start``/``bench:end`` markers, never elsewhere.
"""

import os
import re
from pathlib import Path
from typing import Any

from bench.targets import NOISE_MS, added_p50, added_ratio, describe, ratio

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def num(value: float | None, digits: int = 2) -> str:
    """A figure for a table: thousands separated, ``n/a`` when not measured."""
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}x"


def verdict(ok: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[ok]


def machine_line(results: dict[str, Any]) -> str:
    m = results["machine"]
    lite = (
        f", LiteLLM {results['litellm_version']} (proxy, one worker)"
        if results.get("litellm_version")
        else ""
    )
    return (
        f"{m['cpu_model']}, {m['nproc']} cores, Python {m['python']}, aiohttp {m['aiohttp']}{lite}, "
        f"{m['kernel']}"
    )


def layout_line(results: dict[str, Any]) -> str:
    layout = results["cpu_layout"]
    if layout["hops"] is None:
        return "one CPU: no pinning"
    return (
        f"the hops (bare proxy, shim, LiteLLM; one loaded at a time) on CPU {layout['hops']}, "
        f"the mock and the load generator on CPU {layout['mock_and_load_generator']}"
    )


def shim_ratio_table(results: dict[str, Any]) -> list[str]:
    """One row per workload and concurrency: the shim's figures, each divided by bare's and LiteLLM's."""
    matrix, paths = results["matrix"], results["paths"]
    lite = "litellm" in paths
    head = (
        "| Workload | c | shim added p50 (ms) | ÷ bare | ÷ LiteLLM | shim p99 (ms) | ÷ bare | ÷ LiteLLM "
        "| shim answers/s | ÷ bare | ÷ LiteLLM | shim CPU/answer (µs) | ÷ bare | ÷ LiteLLM |"
    )
    lines = [head, "|" + " --- |" * 14]
    for w, by_c in matrix.items():
        for c, cells in by_c.items():
            s, b = cells["shim"], cells["bare"]
            li = cells.get("litellm") if lite else None
            add = {p: added_p50(matrix, w, c, p) for p in paths}
            cpu = "server_cpu_us_per_request"
            row = [
                results["workload_titles"][w],
                str(c),
                num(add["shim"]),
                times(added_ratio(add["shim"], add["bare"])),
                times(added_ratio(add["shim"], add.get("litellm"))),
                num(s["p99_ms"]),
                times(ratio(s["p99_ms"], b["p99_ms"])),
                times(ratio(s["p99_ms"], li["p99_ms"] if li else None)),
                num(s["req_per_s"], 0),
                times(ratio(s["req_per_s"], b["req_per_s"])),
                times(ratio(s["req_per_s"], li["req_per_s"] if li else None)),
                num(s[cpu], 0),
                times(ratio(s[cpu], b[cpu])),
                times(ratio(s[cpu], li[cpu] if li else None)),
            ]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def targets_table(results: dict[str, Any]) -> list[str]:
    lines = ["| Target | Measured | Value | Limit | Verdict |", "| --- | --- | --- | --- | --- |"]
    for row in results["targets"]:
        lines.append(
            f"| {row['target']} | {row['measure']} | {num(row['value'])} | {row['limit']} "
            f"| {verdict(row['ok'])} |"
        )
    return lines


def path_tables(results: dict[str, Any]) -> list[str]:
    """Every path's raw figures, a table per workload."""
    out: list[str] = []
    matrix = results["matrix"]
    for w, by_c in matrix.items():
        stream = w == "stream"
        out += ["", f"### {results['workload_titles'][w]}", ""]
        head = "| c | path | p50 (ms) | p90 | p99 | max | added p50 |"
        head += " first event p50 | first event p99 |" if stream else ""
        head += " answers/s | errors | server CPU/answer (µs) | server CPU busy | mock CPU/answer (µs) |"
        out += [head, "|" + " --- |" * (head.count("|") - 1)]
        for c, cells in by_c.items():
            for path, s in cells.items():
                row = [str(c), path, num(s["p50_ms"]), num(s["p90_ms"]), num(s["p99_ms"]), num(s["max_ms"])]
                row.append(num(added_p50(matrix, w, c, path)))
                if stream:
                    row += [num(s.get("first_event_p50_ms")), num(s.get("first_event_p99_ms"))]
                row += [
                    num(s["req_per_s"], 0),
                    str(s["errors"]),
                    num(s["server_cpu_us_per_request"], 0),
                    f"{s['server_cpu_percent']:.0f}%",
                    num(s["mock_cpu_us_per_request"], 0),
                ]
                out.append("| " + " | ".join(row) + " |")
        samples = {s["error_sample"] for cells in by_c.values() for s in cells.values() if s["error_sample"]}
        out += [f"\nFirst error seen: `{sample[:200]}`" for sample in sorted(samples)]
    return out


def standalone_lines(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    mock, rep = results.get("mock_alone"), results.get("replay")
    if mock:
        out += [
            "| The mock alone, one process on one core | Figure |",
            "| --- | --- |",
            f"| startup to `/health` | {mock['startup_seconds'] * 1000:.0f} ms |",
            f"| synthetic chat answers, one request repeated "
            f"| {describe(mock['chat_same_request'], 'answers')} |",
            f"| synthetic chat answers, every request different "
            f"| {describe(mock['chat_unique_requests'], 'answers')} |",
            f"| synthetic SSE events (no pacing) | {describe(mock['sse'], 'events')} |",
        ]
    if rep:
        t = rep["replay_timing"]
        out += [
            f"| replayed answers | {describe(rep['replay_answers'], 'answers')} |",
            f"| replayed SSE events (`--speed 0`) | {describe(rep['replay_sse'], 'events')} |",
            f"| replay timing error per event, 1,000 events 5 ms apart (median of 3 replays) | mean "
            f"{t['mean_error_ms']:.2f} ms, p99 {t['p99_error_ms']:.2f} ms, max {t['max_error_ms']:.2f} ms, "
            f"last event {t['last_event_error_ms']:+.2f} ms |",
            f"| the OS floor for that (bare `time.sleep` to the same deadlines) | p99 "
            f"{rep['os_baseline']['p99_error_ms']:.2f} ms, max {rep['os_baseline']['max_error_ms']:.2f} ms |",
        ]
    index = results.get("replay_index") or []
    if index:
        out += ["", "| Replay index | load | memory | lookup |", "| --- | --- | --- | --- |"]
        out += [
            f"| {row['recordings']:,} recordings | {row['load_seconds']:.2f} s "
            f"| {row['index_memory_mb']:.0f} MB | {row['lookup_us']:.1f} µs |"
            for row in index
        ]
    many = results.get("many_streams") or {}
    if many:
        out += [
            "",
            "| 1,000 concurrent streams (74 events, 100 ms apart) | RSS after warm-up | peak | growth "
            "| complete |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, row in many.items():
            out.append(
                f"| through {name} | {row['rss_before_mb']} MB | {row['rss_peak_mb']} MB | "
                f"+{row['rss_growth_mb']} MB | {row['completed']} of {row['streams']} |"
            )
        if "bare" in many and "shim" in many:
            out.append(
                "\nThe shim's growth is "
                f"{times(ratio(many['shim']['rss_growth_mb'], many['bare']['rss_growth_mb']))} "
                "the bare proxy's."
            )
    return out


BUSY_PERCENT = 25.0  # other processes' median CPU use above which a run's figures are flagged as noisy


def noise_line(results: dict[str, Any]) -> str:
    other = results.get("other_processes_cpu_percent_median")
    if other is None:
        return ""
    line = (
        f"Other processes on the machine used a median {other:.0f}% of one CPU during the measured slices "
        f"(from /proc/stat, less this run's own processes)."
    )
    if other > BUSY_PERCENT:
        line += " **The machine was busy: these figures are noisy; rerun `make bench` on a quiet machine.**"
    return line


def tally(results: dict[str, Any]) -> str:
    """ "14 of 25 targets met, 11 missed"."""
    oks = [row["ok"] for row in results["targets"]]
    met, missed = oks.count(True), oks.count(False)
    unmeasured = f", {oks.count(None)} not measured" if None in oks else ""
    return f"{met} of {len(oks)} met, {missed} missed{unmeasured}."


def readme_section(results: dict[str, Any], plots: list[Path], root: Path) -> str:
    """The text between the README's markers."""
    paths = results["paths"]
    lines = [
        START,
        f"_Generated by `{results['command']}` on {results['date']} in {results['wall_seconds']:.0f} s "
        f"(raw figures: `{results['json']}`, every table: [bench/RESULTS.md](bench/RESULTS.md)); "
        "rewritten by each run._",
        "",
        "Four paths in front of the same offline mock, measured in one run and interleaved (each "
        "concurrency level in rounds, the order of the paths rotating, so noise hits them alike): "
        "`direct` (client → mock), `bare` (client → [bench/bare_proxy.py](bench/bare_proxy.py), an aiohttp "
        "proxy that only forwards bytes: the floor for one Python hop → mock), `shim` (client → shim → mock)"
        + (", `litellm` (client → LiteLLM's proxy, `mistral/` provider → mock)" if "litellm" in paths else "")
        + ". Workloads: "
        + ", ".join(results["workload_titles"].values())
        + f"; concurrency {', '.join(str(c) for c in results['plan']['concurrency'])} "
        "(closed loop, keep-alive aiohttp client). *Added latency* is a path's latency less `direct`'s "
        "at the same workload and concurrency; for the stream, of the first event.",
        "",
        f"Machine: {machine_line(results)}. Layout: {layout_line(results)}. {noise_line(results)}",
        "",
    ]
    if "litellm" not in paths:
        lines += ["LiteLLM could not be installed or started in this run; its columns are empty.", ""]
    lines += [f"![{p.stem}]({p.relative_to(root).as_posix()})" for p in plots]
    lines += ["", "### Targets", "", tally(results), "", *targets_table(results)]
    lines += [
        "",
        "### The shim as a ratio to `bare` and to `litellm`",
        "",
        "For the streamed chat, *added p50* is the first event's and p99 is the end of the stream's. CPU per "
        "answer is the hop's own CPU time (from /proc) over the answers it gave: its capacity on one core, "
        "whatever the load generator could send (n/a where too little CPU time was counted to divide). No "
        f"ratio is taken against an added latency under {NOISE_MS} ms, which is within the noise.",
        "",
        *shim_ratio_table(results),
        "",
        "### The mock, replay and 1,000 streams",
        "",
        *standalone_lines(results),
        END,
    ]
    return "\n".join(lines)


def results_markdown(results: dict[str, Any], plots: list[Path], folder: Path) -> str:
    """RESULTS.md (written into ``folder``): the README section's tables plus every path's raw figures."""
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `{results['command']}` on {results['date']} in {results['wall_seconds']:.0f} s; raw "
        f"figures in `{results['json']}`. Do not edit: the next run rewrites this file.",
        "",
        f"Machine: {machine_line(results)}. Layout: {layout_line(results)}. {noise_line(results)}",
        "",
        f"Plan: {results['plan']['rounds']} round(s) of {results['plan']['seconds']} s per path, "
        f"workload and concurrency; the mock paces streams at one event per {results['stream_gap_ms']} ms.",
        "",
        "Time per phase: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in results.get("phase_seconds", {}).items())
        + ".",
        "",
    ]
    lines += [f"![{p.stem}]({Path(os.path.relpath(p, folder)).as_posix()})" for p in plots]
    lines += ["", "## Targets", "", tally(results), "", *targets_table(results)]
    lines += ["", "## The shim as a ratio to `bare` and to `litellm`", "", *shim_ratio_table(results)]
    lines += ["", "## Every path", *path_tables(results)]
    lines += ["", "## The mock, replay and 1,000 streams", "", *standalone_lines(results), ""]
    return "\n".join(lines)


KEPT = re.compile(r"<!-- kept:(?P<name>[\w-]+):start.*?<!-- kept:(?P=name):end -->", re.S)
"""A block a standalone benchmark wrote into RESULTS.md (batch, Responses, store): kept when ``make bench``
rewrites the rest of the file."""


def write_kept(results_md: Path, name: str, section: str, command: str) -> None:
    """Put a standalone benchmark's section into RESULTS.md as its kept block, replacing its last one."""
    block = f"<!-- kept:{name}:start ({command}) -->\n{section.strip()}\n<!-- kept:{name}:end -->"
    text = results_md.read_text() if results_md.exists() else "# Benchmark results\n"
    found = [match for match in KEPT.finditer(text) if match.group("name") == name]
    if found:
        text = text[: found[0].start()] + block + text[found[0].end() :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    results_md.write_text(text)


def with_kept_blocks(text: str, previous: str) -> str:
    """``text`` followed by the kept blocks of the file it replaces."""
    blocks = [match.group(0) for match in KEPT.finditer(previous)]
    return text.rstrip("\n") + "\n\n" + "\n\n".join(blocks) + "\n" if blocks else text


def write_readme(readme: Path, section: str) -> None:
    """Replace the text between the markers; add a Performance section before ``## Layout`` if missing."""
    text = readme.read_text()
    if START in text and END in text:
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        block = f"## Performance\n\n{section}\n\n"
        at = text.find("\n## Layout")
        text = text[: at + 1] + block + text[at + 1 :] if at >= 0 else text.rstrip("\n") + "\n\n" + block
    readme.write_text(text)
