"""One test's share of the session mock: its recordings folder, the mode its record mode gives it, its
fixture rules, and what went wrong, said so that the fix is obvious.

The folder is ``<test dir>/recordings/<module>/<test name>`` (``<Class>.<test name>`` inside a class, or the
name a ``mistral_recording`` marker gives), or under the ``mistral_recordings_dir`` ini option. The mode
follows ``--mistral-record-mode`` as pytest-recording's does: ``none`` replays, ``once`` records a test with
no recordings and replays the others, ``new_episodes`` replays what matches and records the rest, ``all``
records afresh; a test marked ``mistral_synthetic`` gets generated answers and never records.
"""

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path

from mockserver.chain import Chain, build
from mockserver.settings import MockSettings, Mode
from mockserver.sources import Problem
from mockserver.sources.fixtures import Rule
from mockserver.sources.synthetic.source import SyntheticSource

RECORD_MODES = ("none", "once", "new_episodes", "all")
FAILING = frozenset({"miss", "recording", "fixture"})
"""Problems that fail a test even when it passed (it may never have looked at the answer it got)."""


def folder_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def has_recordings(folder: Path) -> bool:
    return folder.is_dir() and any(folder.rglob("*.json"))


def mode_for(record_mode: str, folder: Path, synthetic: bool) -> Mode:
    if synthetic:
        return "synthetic"
    if record_mode == "none":
        return "replay"
    if record_mode == "once":
        return "replay" if has_recordings(folder) else "record"
    if record_mode == "new_episodes":
        return "auto"
    return "record"


@dataclasses.dataclass
class Cassette:
    """What the session mock answers one test from, and what it noted."""

    folder: Path
    record_mode: str
    mode: Mode
    chain: Chain
    # How many problems were already reported (so each is told once).
    reported: int = 0
    # The test was failed with the report as its message: its report needs no section repeating it.
    explained: bool = False

    @classmethod
    def open(
        cls,
        base: MockSettings,
        folder: Path,
        record_mode: str,
        synthetic: bool,
        rules: Sequence[Rule],
        generator: SyntheticSource,
    ) -> "Cassette":
        mode = mode_for(record_mode, folder, synthetic)
        settings = dataclasses.replace(
            base,
            mode=mode,
            recordings=None if mode == "synthetic" else folder,
            upstream_key=os.environ.get("MISTRAL_API_KEY") or None,
        )
        chain = build(settings, generator)
        for rule in reversed(rules):
            chain.fixtures.add(rule)
        return cls(folder, record_mode, mode, chain)

    @property
    def problems(self) -> list[Problem]:
        return self.chain.problems

    def unreported(self) -> list[Problem]:
        """The failing problems not told yet (each is told once)."""
        fresh = self.problems[self.reported :]
        self.reported = len(self.problems)
        return [p for p in fresh if p.kind in FAILING]

    def used(self) -> set[Path]:
        store = self.chain.store
        return {p.resolve() for p in store.used()} if store is not None else set()

    def fail(self, problems: Sequence[Problem], root: Path) -> str:
        """The report, for a test failed with it as its message."""
        self.explained = True
        return self.report(problems, root)

    def report(self, problems: Sequence[Problem], root: Path) -> str:
        """The problems in plain words, with the folder, the mode and the fix."""
        lines = [f"The Mistral mock noted {len(problems)} problem(s) in this test:"]
        lines += [f"  {problem.kind}: {problem.message}" for problem in problems]
        lines.append(f"Recordings of this test: {shown(self.folder, root)} ({self._describe()}).")
        hint = self.hint(problems)
        if hint:
            lines.append(hint)
        return "\n".join(lines)

    def _describe(self) -> str:
        count = len(list(self.folder.rglob("*.json"))) if self.folder.is_dir() else 0
        state = f"{count} file(s)" if count else "none yet"
        return f"{state}; --mistral-record-mode={self.record_mode}, so this test ran in {self.mode} mode"

    def hint(self, problems: Sequence[Problem]) -> str:
        """The record mode that fixes a miss: it depends on whether the test has recordings at all."""
        if not any(p.kind == "miss" for p in problems):
            return ""
        if has_recordings(self.folder):
            return (
                "The request is not the one recorded (see the fields that differ). If the change is "
                "intended, record what is missing with --mistral-record-mode=new_episodes (the other "
                "recordings stay), or redo this test's recordings with --mistral-record-mode=all; "
                "otherwise fix the request."
            )
        return (
            "This test has no recordings yet: record them once with MISTRAL_API_KEY=... pytest "
            "--mistral-record-mode=once, or answer the request with a fixture rule (the mistral_fixtures "
            "marker or fixture)."
        )


def shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
