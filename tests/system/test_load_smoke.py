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
