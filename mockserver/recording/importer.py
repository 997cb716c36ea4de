"""``mistral-mock import-vcr``: cassettes people already have, turned into recordings.

vcrpy / pytest-recording, pydantic-ai's variant and Ruby VCR cassettes are read by ``cassettes``; each
Mistral interaction becomes one recording file. Cassettes keep no timing, so SSE events get offset 0. A
folder stands for the cassettes under it. A file that gives nothing says why (no interactions, none with a
Mistral host, not a cassette at all), each path is named once.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mockserver.recording.cassettes import (
    CassetteError,
    Interaction,
    iter_cassette_files,
    load_cassette,
)
from mockserver.recording.format import Body, Event, Recording, compact, event_data
from mockserver.recording.store import RecordingStore


@dataclass
class ImportReport:
    """Interactions imported per cassette, keyed by the cassette's path as given (many suites name their
    cassettes alike, so a bare file name would merge different cassettes)."""

    imported: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    # Why a cassette that was read gave no recording.
    empty: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.imported.values())

    def summary(self) -> str:
        lines = [
            f"{count:4d}  {name}" if count else f"   0  {name}: nothing imported: {self.empty.get(name, '')}"
            for name, count in self.imported.items()
        ]
        lines += [f"FAIL  {name}: {reason}" for name, reason in self.failed.items()]
        total = sum(self.imported.values())
        lines.append(
            f"{total} interactions imported from {len(self.imported)} cassettes, {len(self.failed)} failed"
        )
        return "\n".join(lines)


def to_recording(interaction: Interaction, source_name: str) -> Recording:
    request, response = interaction.request, interaction.response
    if request.raw_body is not None:
        request_body = Body.from_bytes(request.raw_body)
    elif request.body is not None:
        request_body = Body(value=request.body)
    else:
        request_body = Body(text="")
    events = None
    response_body = None
    if response.events is not None:
        events = tuple(
            Event(0.0, event_data(e if isinstance(e, str) else compact(e))) for e in response.events
        )
    else:
        response_body = Body.from_bytes(response.raw_body)
    url = urlsplit(request.url)
    meta = {
        "recorded_at": interaction.recorded_at,
        "upstream": f"{url.scheme}://{url.netloc}",
        "imported_from": source_name,
    }
    return Recording(
        method=request.method,
        path=request.path,
        query=request.query,
        request_headers=request.headers,
        request_body=request_body,
        status=response.status,
        response_headers=response.headers,
        response_body=response_body,
        events=events,
        meta={k: v for k, v in meta.items() if v is not None},
    )


def _why_nothing(path: Path) -> str:
    """Why a readable cassette holds no Mistral interaction: none at all, or only other hosts'."""
    everything = load_cassette(path, mistral_only=False)
    if not everything:
        return "the cassette has no interactions"
    hosts = Counter(urlsplit(item.request.url).hostname or "?" for item in everything)
    named = ", ".join(f"{host} ({count})" for host, count in hosts.most_common(3))
    return f"none of its {len(everything)} interactions is with a Mistral host (*.mistral.ai): {named}"


def _expanded(paths: Iterable[Path], report: "ImportReport") -> list[Path]:
    """The cassettes to read: files as given, folders as the cassettes under them."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = list(iter_cassette_files(path))
            if not found:
                report.failed[str(path)] = "a folder with no .yaml or .yml cassette under it"
            out.extend(found)
        else:
            out.append(path)
    return out


def import_files(cassettes: Iterable[Path], out: Path, secrets: Iterable[str] = ()) -> ImportReport:
    store = RecordingStore(out, secrets=secrets)
    store.clean()
    report = ImportReport()
    for path in _expanded(cassettes, report):
        key = str(path)
        if not path.exists():
            report.failed[key] = "no such file"
            continue
        try:
            interactions = load_cassette(path)
            if not interactions:
                report.empty[key] = _why_nothing(path)
        except CassetteError as exc:
            # The error names the file itself; the report names it once, at the start of the line.
            report.failed[key] = "not a cassette: " + str(exc).removeprefix(f"{path}: ")
            continue
        for interaction in interactions:
            store.save(to_recording(interaction, path.name))
        report.imported[key] = report.imported.get(key, 0) + len(interactions)
    return report
