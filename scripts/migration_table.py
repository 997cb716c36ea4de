"""The README's table of what the shim translates, rendered from the translation tables themselves.

The README shows every OpenAI request field and its fate; copying that by hand would drift from the code.
``--write`` regenerates the block between the markers in README.md; ``--check`` exits 1 when it is stale
(a test runs it).
"""

import argparse
import sys
from pathlib import Path

from shim.translate import completions, embeddings, params

README = Path(__file__).resolve().parents[1] / "README.md"
START = "<!-- translation-table:start (scripts/migration_table.py --write) -->"
END = "<!-- translation-table:end -->"
FATES = {
    "keep": "kept",
    "rename": "renamed",
    "convert": "converted",
    "drop": "dropped",
    "reject": "refused (400)",
    "route": "routes",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _fate(action: str, target: str | None, field: str) -> str:
    fate = FATES[action]
    return f"{fate} → `{target}`" if target and target != field else fate


def _section(title: str, rows: list[tuple[str, str, str]]) -> list[str]:
    lines = [f"**{title}**", "", "| Field | Fate | Why |", "| --- | --- | --- |"]
    lines += [f"| `{name}` | {fate} | {_cell(reason)} |" for name, fate, reason in rows]
    return [*lines, ""]


def render() -> str:
    """The Markdown tables, one per endpoint, in the order of each table's rows."""
    chat = [(n, _fate(r.action, r.target, n), r.reason) for n, r in params.FIELDS.items()]
    embed = [(n, _fate(r.action, r.target, n), r.reason) for n, r in embeddings.FIELDS.items()]
    legacy = []
    for name, row in completions.FIELDS.items():
        fate = _fate(row.chat, row.target, name)
        if row.fim != row.chat:
            fate += f" (on FIM: {_fate(row.fim, row.target, name)})"
        legacy.append((name, fate, row.reason))
    lines = [
        *_section("`POST /v1/chat/completions`", chat),
        *_section("`POST /v1/embeddings`", embed),
        *_section("`POST /v1/completions` (legacy)", legacy),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _replace(readme: str, block: str) -> str:
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"README.md lacks the markers {START!r} ... {END!r}")
    return f"{head}{START}\n{block}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate the block in README.md")
    mode.add_argument("--check", action="store_true", help="exit 1 when README.md's block is stale")
    args = parser.parse_args(argv)
    block = render()
    if not args.write and not args.check:
        sys.stdout.write(block)
        return 0
    readme = README.read_text(encoding="utf-8")
    updated = _replace(readme, block)
    if args.check:
        if updated != readme:
            print("README.md's translation table is stale: run scripts/migration_table.py --write")
            return 1
        return 0
    README.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
