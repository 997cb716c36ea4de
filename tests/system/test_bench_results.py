"""bench/RESULTS.md keeps what each standalone benchmark wrote when ``make bench`` rewrites the rest."""

from pathlib import Path

from bench import report


def test_a_standalone_section_replaces_its_own_block_and_survives_make_bench(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    report.write_kept(
        results, "store-bench", "## Responses store\n\nold figures", "python bench/store_bench.py"
    )
    report.write_kept(results, "batch-bench", "## Batches\n\n0.5 s", "bench/batch_bench.py --write-results")
    report.write_kept(
        results, "store-bench", "## Responses store\n\nnew figures", "python bench/store_bench.py"
    )
    text = results.read_text()
    assert "old figures" not in text and text.count("## Responses store") == 1
    assert text.index("new figures") < text.index("0.5 s"), "a block is replaced where it was"

    rewritten = report.with_kept_blocks("# Benchmark results\n\nmake bench's own figures\n", text)
    assert rewritten.startswith("# Benchmark results\n\nmake bench's own figures\n")
    assert "new figures" in rewritten and "0.5 s" in rewritten
    assert rewritten.count("<!-- kept:") == 4


def test_the_committed_results_keep_every_standalone_benchmark() -> None:
    text = (Path(__file__).resolve().parents[2] / "bench" / "RESULTS.md").read_text()
    names = {match.group("name") for match in report.KEPT.finditer(text)}
    assert names == {"batch-bench", "responses-bench", "store-bench"}
