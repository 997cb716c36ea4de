"""The README's tables of each server's settings, rendered from the settings declarations themselves.

``--write`` regenerates the blocks between the markers in README.md; ``--check`` exits 1 when one is stale
(a test runs it).
"""

import argparse
import sys
from pathlib import Path

from mistral_wire import settings
from mockserver.settings import MockSettings
from shim.settings import ShimSettings

README = Path(__file__).resolve().parents[1] / "README.md"
TABLES = {"shim": ShimSettings, "mock": MockSettings}


def markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- settings:{name}:start (scripts/settings_table.py --write) -->",
        f"<!-- settings:{name}:end -->",
    )


def _replace(readme: str, name: str, block: str) -> str:
    start, end = markers(name)
    head, found_start, rest = readme.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found_start or not found_end:
        raise SystemExit(f"README.md lacks the markers {start!r} ... {end!r}")
    return f"{head}{start}\n{block}\n{end}{tail}"


def render(readme: str) -> str:
    for name, cls in TABLES.items():
        readme = _replace(readme, name, settings.markdown(cls))
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate the blocks in README.md")
    mode.add_argument("--check", action="store_true", help="exit 1 when a block in README.md is stale")
    args = parser.parse_args(argv)
    if not args.write and not args.check:
        for name, cls in TABLES.items():
            print(f"{name}:\n{settings.markdown(cls)}\n")
        return 0
    readme = README.read_text(encoding="utf-8")
    updated = render(readme)
    if args.check:
        if updated != readme:
            print("README.md's settings tables are stale: run scripts/settings_table.py --write")
            return 1
        return 0
    README.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
