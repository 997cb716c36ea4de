"""The compatibility matrix: every feature the suite exercises, against every target it ran on.

A row is a feature (``@pytest.mark.feature("Chat", "streaming")``; a test without the marker is its own
row), a column a target, and a cell what the tests of that feature did there. Tests that assert a
documented breakage (the ``breaks`` fixture) pass, and their cell says what breaks, so the column of the
mock alone reads as the list of reasons the shim exists. The table is printed at the end of every run
that ran contract tests, written as Markdown with ``--matrix-file``, and summarised into the README block
(``testkit.readme``) with ``--matrix-readme`` (``make matrix`` does both).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contract_tests.targets import TARGETS
from testkit.readme import update_readme

BREAKS = "breaks"
"""The ``user_properties`` key a test's documented breakage is recorded under."""

OTHER = "—"


@dataclass
class Cell:
    passed: int = 0
    failed: int = 0
    known_gaps: list[str] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)
    breaks: list[str] = field(default_factory=list)

    def text(self) -> str:
        total = self.passed + self.failed + len(self.known_gaps)
        if self.failed:
            return f"❌ fails ({self.failed} of {total + len(self.skips)})"
        if self.known_gaps:
            return f"⚠️ known gap: {self.known_gaps[0]}"
        if self.breaks:
            return "⛔ breaks: " + "; ".join(dict.fromkeys(self.breaks))
        if self.passed:
            return "✅ works" + (f" ({len(self.skips)} skipped)" if self.skips else "")
        if self.skips:
            return f"⏭️ skipped: {self.skips[0]}"
        return ""


def _feature(item: pytest.Item) -> tuple[str, str]:
    marker = item.get_closest_marker("feature")
    if marker is not None:
        section, name = marker.args
        return section, name
    return "Other", item.originalname if isinstance(item, pytest.Function) else item.name


def _column(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "target" in callspec.params:
        return str(callspec.params["target"])
    marker = item.get_closest_marker("column")
    return str(marker.args[0]) if marker else OTHER


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ").split("\n")[0][:80]


class Matrix:
    """A pytest plugin that collects outcomes per (feature, target) and renders the table."""

    def __init__(self, path: Path | None, readme: Path | None = None) -> None:
        self.path = path
        self.readme = readme
        self.where: dict[str, tuple[tuple[str, str], str]] = {}
        self.cells: dict[tuple[str, str], dict[str, Cell]] = defaultdict(lambda: defaultdict(Cell))
        self.unvalidated = False

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if "contract_tests" in item.nodeid.split("/")[0]:
                self.where[item.nodeid] = (_feature(item), _column(item))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.where:
            return
        feature, column = self.where[report.nodeid]
        cell = self.cells[feature][column]
        if report.when == "call" or report.outcome != "passed":
            if hasattr(report, "wasxfail"):
                if report.skipped:
                    cell.known_gaps.append(report.wasxfail)
                else:
                    cell.failed += 1  # an xfail(strict) that passed: the gap closed, the marker lies
            elif report.failed:
                cell.failed += 1
            elif report.skipped:
                cell.skips.append(_skip_reason(report))
            elif report.when == "call":
                cell.passed += 1
                cell.breaks.extend(value for key, value in report.user_properties if key == BREAKS)

    def columns(self) -> list[str]:
        seen = {column for row in self.cells.values() for column in row}
        ordered = [name for name in (*TARGETS, OTHER) if name in seen]
        return ordered + sorted(seen - set(ordered))

    def markdown(self) -> str:
        columns = self.columns()
        lines = [
            "| Feature | " + " | ".join(f"`{name}`" for name in columns) + " |",
            "| --- |" + " --- |" * len(columns),
        ]
        section = None
        for (group, name), row in sorted(self.cells.items(), key=lambda entry: entry[0]):
            if group != section:
                section = group
                lines.append(f"| **{group}** |" + " |" * len(columns))
            cells = [row[column].text() if column in row else "" for column in columns]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.cells:
            return
        terminalreporter.section("compatibility matrix")
        columns = self.columns()
        width = min(60, max(len(f"{group}: {name}") for group, name in self.cells) + 2)
        terminalreporter.write_line("".ljust(width) + "".join(name.ljust(34) for name in columns))
        for (group, name), row in sorted(self.cells.items(), key=lambda entry: entry[0]):
            texts = [(row[column].text() if column in row else "")[:32].ljust(34) for column in columns]
            terminalreporter.write_line(f"{group}: {name}"[:width].ljust(width) + "".join(texts))
        if self.path is not None:
            document = _document(self.markdown())
            self.path.write_text(document, encoding="utf-8")
            terminalreporter.write_line(f"matrix written to {self.path}")
            if self.readme is not None and update_readme(self.readme, document):
                terminalreporter.write_line(f"summary written to {self.readme}")


def _document(table: str) -> str:
    return f"""# Compatibility matrix

What the official `openai` client (and Mistral's own SDK, and three frameworks) can do against each target,
from the last run of `make matrix` (`contract_tests/`, every target; live columns need `MISTRAL_API_KEY`).

- `shim+mock`: openai client → shim → the mock, synthetic answers.
- `shim+replay`: openai client → shim → the mock replaying `recordings/contract/`.
- `mock`: the openai client straight at the mock, as if a team only changed `base_url`: this column is the
  list of what breaks without the shim, each breakage asserted by a test.
- `live`: openai client → shim → api.mistral.ai. `live-direct`: the openai client straight at
  api.mistral.ai. The same tests as the offline columns, to check the mock and the recordings against
  reality.

✅ works · ⛔ breaks, as asserted (how) · ⚠️ known gap (a test marked as expected to fail, with why) ·
❌ fails · ⏭️ skipped (why)

{table}"""
