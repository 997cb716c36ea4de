"""``mistral-mock import-vcr``: cassettes people already have, turned into recordings.

vcrpy / pytest-recording, pydantic-ai's variant and Ruby VCR cassettes are read by ``cassettes``; each
Mistral interaction becomes one recording file. Cassettes keep no timing, so SSE events get offset 0.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mockserver.recording.cassettes import CassetteError, Interaction, load_cassette
from mockserver.recording.format import Body, Event, Recording, compact, event_data
from mockserver.recording.store import RecordingStore


@dataclass
class ImportReport:
    """Interactions imported per cassette, keyed by the cassette's path as given (many suites name their
    cassettes alike, so a bare file name would merge different cassettes)."""

    imported: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{count:4d}  {name}" for name, count in self.imported.items()]
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


def import_files(cassettes: Iterable[Path], out: Path, secrets: Iterable[str] = ()) -> ImportReport:
    store = RecordingStore(out, secrets=secrets)
    store.clean()
    report = ImportReport()
    for path in cassettes:
        key = str(path)
        try:
            interactions = load_cassette(path)
        except CassetteError as exc:
            report.failed[key] = str(exc)
            continue
        for interaction in interactions:
            store.save(to_recording(interaction, path.name))
        report.imported[key] = report.imported.get(key, 0) + len(interactions)
    return report
