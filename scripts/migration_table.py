"""The README's table of what the shim translates, rendered from the translation tables themselves.

The README shows every OpenAI request field and its fate; copying that by hand would drift from the code.
``--write`` regenerates the blocks between the markers in README.md (the chat, embeddings and legacy
completions tables, and the Responses API's in its own section); ``--check`` exits 1 when one is stale (a
test runs it).
"""

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from shim.translate import audio, batch, completions, embeddings, files, moderations
from shim.translate.chat import request as params
from shim.translate.responses import request as responses
from shim.translate.table import Field

README = Path(__file__).resolve().parents[1] / "README.md"
START = "<!-- translation-table:start (scripts/migration_table.py --write) -->"
END = "<!-- translation-table:end -->"
RESPONSES_START = "<!-- responses-table:start (scripts/migration_table.py --write) -->"
RESPONSES_END = "<!-- responses-table:end -->"
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


def _fate(fate: str, target: str | None, field: str) -> str:
    """The fate as the README says it, with the Mistral field a renamed or converted field becomes."""
    said = FATES[fate]
    moved = fate in ("rename", "convert") and target and target != field
    return f"{said} → `{target}`" if moved else said


def _section(title: str, rows: list[tuple[str, str, str]]) -> list[str]:
    lines = [f"**{title}**", "", "| Field | Fate | Why |", "| --- | --- | --- |"]
    lines += [f"| `{name}` | {fate} | {_cell(reason)} |" for name, fate, reason in rows]
    return [*lines, ""]


def rows(fields: Mapping[str, Field], routes: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """One table's rows as (field, fate, why); a fate that differs on another route says so."""
    out = []
    for name, row in fields.items():
        fate = _fate(row.fate, row.target, name)
        for route, varied in row.routes.items():
            if varied.fate != row.fate:
                label = (routes or {}).get(route, route)
                fate += f" (on {label}: {_fate(varied.fate, varied.target, name)})"
        out.append((name, fate, row.reason))
    return out


def _values(title: str, head: tuple[str, str, str], values: list[tuple[str, str, str]]) -> list[str]:
    """A table of values (purposes, statuses, categories...): OpenAI's, Mistral's, why."""
    lines = [f"**{title}**", "", f"| {' | '.join(head)} |", "| --- | --- | --- |"]
    lines += [f"| {openai} | {mistral} | {_cell(reason)} |" for openai, mistral, reason in values]
    return [*lines, ""]


def _groups(groups: tuple[tuple[str, ...], ...]) -> str:
    """A moderation category's sources: ``a`` and (``b`` or ``c``); the flag needs every group, the score is
    the lowest group's highest score."""
    said = [" or ".join(f"`{key}`" for key in group) for group in groups]
    if len(said) > 1:
        said = [f"({text})" if " or " in text else text for text in said]
    return " and ".join(said) or "none (false, 0)"


def _jobs() -> list[str]:
    """Files, batches, moderations and audio (issue 16)."""
    purposes = [
        (f"`{name}`", f"`{row.mistral}`" if row.mistral else "refused (400)", row.reason)
        for name, row in files.PURPOSES.items()
    ]
    categories = [
        (f"`{name}`", _groups(row.groups), row.reason) for name, row in moderations.CATEGORIES.items()
    ]
    endpoints = [
        (
            f"`{name}`",
            f"`{target}`" if target else "refused (400)",
            batch.REFUSED.get(name, "the same endpoint"),
        )
        for name, target in batch.ENDPOINTS.items()
    ]
    statuses = [(f"`{mistral}`", f"`{openai}`", "") for mistral, openai in batch.STATUSES.items()]
    statuses.append(("", "`finalizing`", "no Mistral state: never sent"))
    formats = [
        (f"`{name}`", f"`{kind}`" if kind else "", "the same format" if kind else "none: refused (400)")
        for name, kind in audio.AUDIO_TYPES.items()
    ]
    return [
        *_section("`POST /v1/files`", rows(files.FIELDS)),
        *_values("File purposes", ("OpenAI", "Mistral", "Why"), purposes),
        *_section("`GET /v1/files`", rows(files.LIST_FIELDS)),
        *_section("`POST /v1/batches`", rows(batch.FIELDS)),
        *_values("Batch endpoints", ("OpenAI", "Mistral", "Why"), endpoints),
        *_values("Batch statuses", ("Mistral", "OpenAI", "Note"), statuses),
        *_section("`GET /v1/batches`", rows(batch.LIST_FIELDS)),
        *_section("`POST /v1/moderations`", rows(moderations.FIELDS)),
        *_values("Moderation categories", ("OpenAI", "From Mistral's", "How"), categories),
        *_section("`POST /v1/audio/transcriptions`", rows(audio.TRANSCRIPTION_FIELDS)),
        *_section("`POST /v1/audio/speech`", rows(audio.SPEECH_FIELDS)),
        *_values("Speech formats", ("OpenAI", "Content type", "Mistral"), formats),
    ]


def render() -> str:
    """The Markdown tables, one per endpoint, in the order of each table's rows."""
    lines = [
        *_section("`POST /v1/chat/completions`", rows(params.FIELDS)),
        *_section("`POST /v1/embeddings`", rows(embeddings.FIELDS)),
        *_section("`POST /v1/completions` (legacy)", rows(completions.FIELDS, {"fim": "FIM"})),
        *_jobs(),
    ]
    return "\n".join(lines).rstrip() + "\n"


def render_responses() -> str:
    """The Responses API's table: every ``CreateResponse`` field, on its way to Mistral's chat endpoint."""
    lines = _section("`POST /v1/responses`", rows(responses.FIELDS))
    return "\n".join(lines).rstrip() + "\n"


def _replace(readme: str, block: str, start_marker: str = START, end_marker: str = END) -> str:
    head, start, rest = readme.partition(start_marker)
    _, end, tail = rest.partition(end_marker)
    if not start or not end:
        raise SystemExit(f"README.md lacks the markers {start_marker!r} ... {end_marker!r}")
    return f"{head}{start_marker}\n{block}{end_marker}{tail}"


def updated(readme: str) -> str:
    """README.md with every generated table block rendered anew."""
    readme = _replace(readme, render())
    return _replace(readme, render_responses(), RESPONSES_START, RESPONSES_END)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate the block in README.md")
    mode.add_argument("--check", action="store_true", help="exit 1 when README.md's block is stale")
    args = parser.parse_args(argv)
    if not args.write and not args.check:
        sys.stdout.write(render() + "\n" + render_responses())
        return 0
    readme = README.read_text(encoding="utf-8")
    fresh = updated(readme)
    if args.check:
        if fresh != readme:
            print("README.md's translation tables are stale: run scripts/migration_table.py --write")
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
