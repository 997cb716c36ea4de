"""A short soak in ``make test``: bench/soak.py's code, 1,000 requests at concurrency 50 through shim → mock.

The same checks as the long run (``python -m bench.soak``: 10,000 requests at concurrency 200): zero
errors, each server's resident memory flat from the second quarter of the run to the last, the same open
file descriptors after the run as after the warm-up. The memory bound is looser (15 % instead of 10 %),
since a quarter of this run is 250 requests; descriptors get the same two of slack. No timing is asserted.
"""

from pathlib import Path

from bench import soak

REQUESTS = 1_000
CONCURRENCY = 50


def test_a_thousand_mixed_requests_through_shim_and_mock_leave_nothing_behind(tmp_path: Path) -> None:
    report = soak.run(REQUESTS, CONCURRENCY, tmp_path / "logs", warmup_rounds=1)
    problems = soak.failures(report, max_growth=0.15, fd_slack=2)
    assert not problems, soak.summary(report, problems)
    # The run was what it says: every request answered, streams and plain answers, sampled throughout.
    assert sum(report.outcomes.values()) == REQUESTS
    assert {"chat", "chat-stream", "completion-stream", "embeddings", "models"} <= set(report.outcomes)
    assert all(
        report.quarter_peak(name, quarter) > 0 for name in ("mock", "shim") for quarter in (1, 2, 3, 4)
    )
    assert report.fds_after_warmup["shim"] > 0 and report.fds_after_warmup["mock"] > 0
    # The pool was found from both ends: the shim's connections to the mock are the mock's from the shim.
    assert report.pool_after_warmup["shim"] > 0 and report.pool_after_warmup["mock"] > 0
    assert abs(report.pool_after_run["shim"] - report.pool_after_run["mock"]) <= 2


def _report(fds: tuple[int, int], pool: tuple[int, int]) -> soak.Report:
    """A finished run of the shim alone with these descriptor counts (after warm-up, after the run)."""
    report = soak.Report(REQUESTS, CONCURRENCY)
    report.outcomes["chat"] = REQUESTS
    report.fds_after_warmup, report.fds_after_run = {"shim": fds[0]}, {"shim": fds[1]}
    report.pool_after_warmup, report.pool_after_run = {"shim": pool[0]}, {"shim": pool[1]}
    return report


def test_a_busier_moment_may_grow_the_upstream_pool_up_to_the_concurrency() -> None:
    assert soak.failures(_report((50, 57), (38, 45)), max_growth=0.15, fd_slack=2) == []
    assert soak.failures(_report((50, 50 + CONCURRENCY), (38, 38 + CONCURRENCY)), 0.15, 2) == [
        f"shim: {38 + CONCURRENCY} connections between shim and mock after the run, "
        f"more than the {CONCURRENCY} requests ever in flight"
    ]


def test_any_other_descriptor_left_behind_fails_the_run() -> None:
    assert soak.failures(_report((50, 53), (38, 38)), max_growth=0.15, fd_slack=2) == [
        "shim: 12 open file descriptors besides the shim's pool after the warm-up, 15 after the run"
    ]
