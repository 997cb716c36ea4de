"""PNG plots of one run: latency percentiles per path and concurrency, throughput per path, and the shim's
resident memory under 1,000 concurrent streams.

matplotlib is the ``bench`` extra (``pip install -e '.[bench]'``), not a dependency of the servers; without
it the run still writes its JSON and tables and says the plots were skipped.
"""

from pathlib import Path
from typing import Any

from bench.targets import added_p50

COLOURS = {"direct": "#7f7f7f", "bare": "#1f77b4", "shim": "#d62728", "litellm": "#2ca02c"}


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def latency(results: dict[str, Any], target: Path) -> Path:
    """One panel per workload (and one for the first event of a stream): p50 solid, p99 dashed, log scale."""
    plt = _pyplot()
    matrix, paths = results["matrix"], results["paths"]
    panels = [(w, "p50_ms", "p99_ms", results["workload_titles"][w]) for w in matrix]
    if "stream" in matrix:
        panels.append(("stream", "first_event_p50_ms", "first_event_p99_ms", "streamed chat: first event"))
    columns = 3
    rows = (len(panels) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.8 * rows), squeeze=False)
    for ax, (workload, p50, p99, title) in zip(axes.flat, panels, strict=False):
        levels = sorted(matrix[workload])
        for path in paths:
            for key, style in ((p50, "-"), (p99, "--")):
                ys = [matrix[workload][c][path].get(key) for c in levels]
                ax.plot(
                    [str(c) for c in levels],
                    ys,
                    style,
                    marker="o",
                    color=COLOURS.get(path),
                    label=f"{path} {key.split('_')[-2]}",
                )
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("concurrency")
        ax.set_ylabel("latency (ms)")
        ax.grid(True, which="both", alpha=0.3)
    spare = list(axes.flat)[len(panels) :]
    if spare:
        added_bars(results, spare[0])
    for ax in spare[1:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, ncol=2)
    fig.suptitle("Latency per path and concurrency (p50 solid, p99 dashed)")
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def added_bars(results: dict[str, Any], ax: Any) -> None:
    """Added latency p50 at the lowest concurrency (path less direct), a group of bars per workload."""
    matrix, paths = results["matrix"], [p for p in results["paths"] if p != "direct"]
    lowest = min(next(iter(matrix.values())))
    width = 0.8 / len(paths)
    for i, path in enumerate(paths):
        xs = [n + (i - (len(paths) - 1) / 2) * width for n in range(len(matrix))]
        ys = [max(added_p50(matrix, w, lowest, path) or 0.0, 0.001) for w in matrix]
        ax.bar(xs, ys, width, label=path, color=COLOURS.get(path))
    ax.set_xticks(range(len(matrix)), [w if w != "stream" else "stream\n(first event)" for w in matrix])
    ax.set_yscale("log")
    ax.set_title(f"added latency p50 at c={lowest} (path - direct)", fontsize=10)
    ax.set_ylabel("ms")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=7)


def throughput(results: dict[str, Any], target: Path) -> Path:
    """Answers per second, grouped bars per concurrency, one panel per workload."""
    plt = _pyplot()
    matrix, paths = results["matrix"], results["paths"]
    fig, axes = plt.subplots(1, len(matrix), figsize=(4.2 * len(matrix), 3.8), squeeze=False)
    width = 0.8 / len(paths)
    for ax, workload in zip(axes.flat, matrix, strict=True):
        levels = sorted(matrix[workload])
        for i, path in enumerate(paths):
            xs = [n + (i - (len(paths) - 1) / 2) * width for n in range(len(levels))]
            ax.bar(
                xs,
                [matrix[workload][c][path]["req_per_s"] for c in levels],
                width,
                label=path,
                color=COLOURS.get(path),
            )
        ax.set_xticks(range(len(levels)), [str(c) for c in levels])
        ax.set_yscale("log")
        ax.set_title(results["workload_titles"][workload], fontsize=10)
        ax.set_xlabel("concurrency")
        ax.set_ylabel("answers/s")
        ax.grid(True, axis="y", which="both", alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=len(paths), fontsize=8)
    fig.suptitle("Throughput per path (answers per second, log scale)", x=0.3)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def memory(results: dict[str, Any], target: Path) -> Path | None:
    """Resident memory of each hop while 1,000 streams run through it."""
    many = results.get("many_streams") or {}
    if not many:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, row in many.items():
        curve = row.get("rss_curve") or []
        ax.plot([t for t, _ in curve], [r for _, r in curve], color=COLOURS.get(name), label=name)
    ax.set_xlabel("seconds since the first stream opened")
    ax.set_ylabel("resident memory (MB)")
    ax.set_title("1,000 concurrent streams: resident memory of the hop")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def all_plots(results: dict[str, Any], folder: Path) -> list[Path]:
    """Write every plot into ``folder``; an empty list (and a message) when matplotlib is missing."""
    try:
        _pyplot()
    except ImportError:
        print("plots skipped: matplotlib is not installed (pip install -e '.[bench]')")
        return []
    folder.mkdir(parents=True, exist_ok=True)
    made = [latency(results, folder / "latency.png"), throughput(results, folder / "throughput.png")]
    streams = memory(results, folder / "streams-memory.png")
    return [*made, streams] if streams else made
