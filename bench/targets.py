"""The issue's targets, each checked against one run's results: a row per target and workload, met or not.

"Added latency" is a path's latency less the ``direct`` path's at the same workload and concurrency: what
the hop costs, with the mock's own time and the client's taken out. Latency targets are judged at
concurrency 1, where latency is the hop's work rather than queueing; throughput at each path's best
concurrency; the p99 at every concurrency.
"""

from typing import Any

LATENCY_WORKLOADS = ("small", "large", "embeddings")
# "p99 collapse" (the shape TensorZero reports for LiteLLM at 1k QPS: most requests time out): errors, a
# tail that runs away from the floor's, or throughput falling away as concurrency grows. Both are judged
# against the bare proxy under the same client at the same moment, because the machine's own noise (other
# processes, the load generator slowing down at 256 connections on the CPU it shares with the mock) moves
# every path's tail and throughput; a hop that is merely slower shows a p99 about as much above bare's as
# its throughput is below, far from the limit.
COLLAPSE_TAIL = 3.0  # shim's p99 / bare's p99, at every concurrency
COLLAPSE_KEPT = 0.8  # shim's (answers/s at the top concurrency / its best), over the same for bare
# An added latency under this (ms) is within the noise of two p50s: no ratio is taken against it.
NOISE_MS = 0.05


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b rounded, None when either is missing or b is not positive."""
    if a is None or b is None or b <= 0:
        return None
    return round(a / b, 2)


def added_ratio(a: float | None, b: float | None) -> float | None:
    """The ratio of two added latencies, None when either is negative (faster than ``direct``: noise) or
    the denominator is within the noise."""
    if a is None or b is None or a < 0 or b < NOISE_MS:
        return None
    return ratio(a, b)


def added_p50(matrix: dict[str, Any], workload: str, concurrency: int, path: str) -> float | None:
    """p50 of ``path`` less p50 of ``direct`` (ms); for a stream, of the first event's arrival."""
    cells = matrix[workload][concurrency]
    if path not in cells:
        return None
    key = "first_event_p50_ms" if "first_event_p50_ms" in cells[path] else "p50_ms"
    if cells[path].get(key) is None or cells["direct"].get(key) is None:
        return None
    return round(cells[path][key] - cells["direct"][key], 3)


def per_round(matrix: dict[str, Any], workload: str, concurrency: int, path: str, other: str) -> str:
    """The ratio of added latencies (``path`` over ``other``) round by round, as "min-max over N rounds".

    Every round measures every path once, seconds apart, so the spread of this ratio shows how much of
    the pooled figure is noise.
    """
    cells = matrix[workload][concurrency]
    if path not in cells or other not in cells:
        return ""
    rows = zip(
        cells[path].get("p50_ms_per_slice", []),
        cells[other].get("p50_ms_per_slice", []),
        cells["direct"].get("p50_ms_per_slice", []),
        strict=False,
    )
    ratios = [
        r
        for a, b, d in rows
        if None not in (a, b, d) and (r := added_ratio(a - d, b - d)) is not None  # type: ignore[operator]
    ]
    if len(ratios) < 2:
        return ""
    return f" (round by round {min(ratios):g} to {max(ratios):g})"


def peak(matrix: dict[str, Any], workload: str, path: str) -> float | None:
    """Best answers/s of ``path`` over the concurrency levels."""
    rates = [cells[path]["req_per_s"] for cells in matrix[workload].values() if path in cells]
    return max(rates) if rates else None


def capacity(measured: dict[str, Any], key: str) -> float | None:
    """Answers (or events) per second of the server's own CPU time: its capacity on one core whether or
    not the load generator kept it busy; None when too little CPU time was counted (10 ms ticks)."""
    cpu = measured.get("server_cpu_seconds") or 0.0
    return measured[key] * measured["seconds"] / cpu if cpu >= 0.2 else None


def describe(measured: dict[str, Any], key: str) -> str:
    """ "9,800/s measured, mock CPU 95% busy, 10,300 per CPU-second"."""
    cpu = measured.get("server_cpu_seconds") or 0.0
    per_cpu = capacity(measured, key)
    text = f"{measured[key]:,.0f}/s measured"
    text += f", mock CPU {100 * cpu / measured['seconds']:.0f}% busy" if cpu else ""
    return text + (f", {per_cpu:,.0f} per CPU-second" if per_cpu else "")


def _per_core_row(
    target: str, label: str, measured: dict[str, Any] | None, key: str, limit: float
) -> dict[str, Any]:
    """A mock throughput target: judged on the larger of what was measured and what the mock's CPU time
    says one core sustains, since the load generator, not the mock, may have been the bottleneck."""
    if not measured:
        return _row(target, label, None, f"≥ {limit:,.0f}", None)
    rate, per_cpu = measured[key], capacity(measured, key)
    text = f"{label}: {describe(measured, key)}"
    value = round(max(rate, per_cpu or 0.0))
    return _row(target, text, value, f"≥ {limit:,.0f}", value >= limit)


def _row(target: str, measure: str, value: float | None, limit: str, ok: bool | None) -> dict[str, Any]:
    return {"target": target, "measure": measure, "value": value, "limit": limit, "ok": ok}


def check(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the issue, as rows ``{target, measure, value, limit, ok}``; ``ok`` None: unmeasured."""
    matrix = results["matrix"]
    has_litellm = "litellm" in results["paths"]
    lowest = min(int(c) for c in next(iter(matrix.values())))
    rows = []
    for w in LATENCY_WORKLOADS:
        shim, bare = added_p50(matrix, w, lowest, "shim"), added_p50(matrix, w, lowest, "bare")
        value = added_ratio(shim, bare)
        rows.append(
            _row(
                "shim added latency p50 within 1.5x of bare's",
                f"{w}, c={lowest}: {shim} ms vs {bare} ms" + per_round(matrix, w, lowest, "shim", "bare"),
                value,
                "≤ 1.5",
                None if value is None else value <= 1.5,
            )
        )
    for w in LATENCY_WORKLOADS:
        shim = added_p50(matrix, w, lowest, "shim")
        lite = added_p50(matrix, w, lowest, "litellm") if has_litellm else None
        value = added_ratio(shim, lite)
        rows.append(
            _row(
                "shim added latency p50 at most 1/4 of LiteLLM's",
                f"{w}, c={lowest}: {shim} ms vs {lite} ms" + per_round(matrix, w, lowest, "shim", "litellm"),
                value,
                "≤ 0.25",
                None if value is None else value <= 0.25,
            )
        )
    for w in matrix:
        shim, bare = peak(matrix, w, "shim"), peak(matrix, w, "bare")
        value = ratio(shim, bare)
        rows.append(
            _row(
                "shim throughput at least 0.7x bare's",
                f"{w}, best concurrency: {shim} vs {bare} answers/s",
                value,
                "≥ 0.7",
                value is not None and value >= 0.7,
            )
        )
    for w in matrix:
        # The same as capacity: each hop's CPU time per answer where bare answered most, so the figure is
        # the hops' own, not what the load generator (sharing the mock's CPU) let through.
        best = max(matrix[w], key=lambda c: matrix[w][c]["bare"]["req_per_s"])
        shim, bare = (matrix[w][best][p]["server_cpu_us_per_request"] for p in ("shim", "bare"))
        value = ratio(bare, shim)
        rows.append(
            _row(
                "the same as capacity: bare's CPU per answer / the shim's",
                f"{w}, c={best}: {shim} µs vs {bare} µs",
                value,
                "≥ 0.7",
                None if value is None else value >= 0.7,
            )
        )
    top = max(int(c) for c in next(iter(matrix.values())))
    for w in matrix:
        cells = {int(c): row["shim"] for c, row in matrix[w].items()}
        errors = sum(cell["errors"] for cell in cells.values())
        tails = [ratio(cell["p99_ms"], matrix[w][c]["bare"]["p99_ms"]) or 0.0 for c, cell in cells.items()]
        kept = {
            path: ratio(matrix[w][top][path]["req_per_s"], peak(matrix, w, path)) for path in ("shim", "bare")
        }
        relative = ratio(kept["shim"], kept["bare"])
        ok = errors == 0 and max(tails, default=0.0) <= COLLAPSE_TAIL
        ok = ok and relative is not None and relative >= COLLAPSE_KEPT
        rows.append(
            _row(
                f"no p99 collapse up to concurrency {top}",
                f"{w}: {errors} errors; shim p99 / bare p99 at most {max(tails, default=None)}; at c={top} "
                f"the shim keeps {kept['shim']}x its best answers/s, bare {kept['bare']}x",
                relative,
                f"no errors, p99 ≤ {COLLAPSE_TAIL:g}x bare's, keeps ≥ {COLLAPSE_KEPT:g}x what bare keeps",
                ok,
            )
        )
    if "stream" in matrix:
        shim, bare = added_p50(matrix, "stream", lowest, "shim"), added_p50(matrix, "stream", lowest, "bare")
        value = added_ratio(shim, bare)
        rows.append(
            _row(
                "streaming first-event overhead within 1.5x of bare's",
                f"c={lowest}: {shim} ms vs {bare} ms" + per_round(matrix, "stream", lowest, "shim", "bare"),
                value,
                "≤ 1.5",
                None if value is None else value <= 1.5,
            )
        )
    many = results.get("many_streams", {}).get("shim")
    if many:
        complete = many["completed"] == many["streams"]
        rows.append(
            _row(
                "1,000 concurrent streams under 100 MB of resident growth",
                f"{many['rss_before_mb']} → {many['rss_peak_mb']} MB, {many['completed']} of "
                f"{many['streams']} complete",
                many["rss_growth_mb"],
                "< 100 MB, all complete",
                many["rss_growth_mb"] < 100 and complete,
            )
        )
    mock = results.get("mock_alone")
    rep = results.get("replay") or {}
    if mock:
        for target, key, limit, figures in (
            (
                "mock at least 5,000 answers/s per core",
                "answers",
                5000,
                (
                    ("synthetic, one request repeated", mock["chat_same_request"]),
                    ("synthetic, every request different", mock["chat_unique_requests"]),
                    ("replayed", rep.get("replay_answers")),
                ),
            ),
            (
                "mock at least 40,000 SSE events/s per core",
                "events",
                40000,
                (
                    ("synthetic", mock["sse"]),
                    ("replayed", rep.get("replay_sse")),
                ),
            ),
        ):
            for label, measured in figures:
                rows.append(_per_core_row(target, label, measured, key, limit))
    index = results.get("replay_index")
    if index and len(index) > 1:
        first, last = index[0], index[-1]
        value = ratio(last["lookup_us"], first["lookup_us"])
        rows.append(
            _row(
                f"replay lookup flat from {first['recordings']:,} to {last['recordings']:,} recordings",
                f"{first['lookup_us']:.1f} µs → {last['lookup_us']:.1f} µs "
                f"({last['recordings'] // first['recordings']}x the recordings)",
                value,
                "≤ 2 (flat: a 100x larger index costs at most twice the time)",
                value is not None and value <= 2,
            )
        )
    return rows
