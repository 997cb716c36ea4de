"""The recordings under one folder: the persister's files, indexed by the matcher's keys, scrubbed on write.

The one object record, replay and auto modes, the pytest plugin and the importer use; it delegates each
job to its module, as vcrpy splits a cassette into matchers, persisters and serializers: ``format`` (one
recording as a readable JSON file), ``persister`` (names, atomic writes, reads), ``index`` (request keys to
files, in recorded order), ``matching`` (what makes two requests the same) and ``redact`` (no key in a file).
"""

from collections.abc import Iterable
from pathlib import Path

from mistral_wire.scrub import scrub
from mockserver.recording import matching, persister, redact
from mockserver.recording.format import Body, Recording
from mockserver.recording.index import RecordingIndex
from mockserver.recording.persister import RecordingError, endpoint_name, file_stem

__all__ = ["RecordingError", "RecordingStore", "endpoint_name", "file_stem"]


class RecordingStore:
    """The recordings under one directory, indexed by request key."""

    def __init__(self, root: Path, *, ignore_fields: Iterable[str] = (), secrets: Iterable[str] = ()) -> None:
        self.root = Path(root)
        self.ignore_fields = tuple(ignore_fields)
        self.secrets = tuple(s for s in secrets if s)
        self.index = RecordingIndex()
        self._names: dict[Path, str] = {}

    # --- reading ---------------------------------------------------------------------------------------

    def load(self) -> int:
        """Index every recording under the root; remove temporary files a killed recorder left."""
        self.index.clear()
        if not self.root.is_dir():
            return 0
        found: list[tuple[str, str, int, str, str, Path]] = []
        for path in persister.files(self.root):
            method, route, key = self._request_key(path)
            match = persister.SEQUENCE.match(path.name)
            sequence = int(match["n"]) if match and match["n"] else 1
            found.append((key, path.name.split(".", 1)[0], sequence, method, route, path))
        found.sort(key=lambda item: item[:3])
        for key, _, _, method, route, path in found:
            self.index.add(key, method, route, path)
        return len(found)

    def clean(self) -> int:
        """Remove the temporary files killed writers left under the root; return how many went."""
        return persister.remove_stale(self.root)

    def _request_key(self, path: Path) -> tuple[str, str, str]:
        """Method, path and key of a recording, parsing only its request part."""
        request = persister.read_request(path)
        try:
            body = Body(text=request["text"]) if "text" in request else Body(value=request.get("body"))
            method, route = request["method"].upper(), request["path"]
            key = matching.request_key(method, route, request.get("query", ""), body, self.ignore_fields)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise RecordingError(f"{path}: not a readable recording ({exc})") from None
        return method, route, key

    def name_of(self, path: Path) -> str:
        """A recording's file relative to the root, as answers name it (``x-mock-recording``)."""
        name = self._names.get(path)
        if name is None:
            name = self._names[path] = str(path.relative_to(self.root))
        return name

    def read(self, path: Path) -> Recording:
        return self.index.read(path)

    def key_of(self, recording: Recording) -> str:
        return matching.request_key(
            recording.method, recording.path, recording.query, recording.request_body, self.ignore_fields
        )

    def __len__(self) -> int:
        return len(self.index)

    def as_saved(
        self, path: str, query: str, body: Body | bytes, extra_secrets: Iterable[str] = ()
    ) -> tuple[str, str, Body]:
        """A live request's path, query and body as its recording was written (keys scrubbed, credential
        parameters dropped), so that a request carrying a key still finds the recording it made. The body
        is the bytes sent, or what a recording keeps of a form (``Call.body``)."""
        secrets = [s for s in (*self.secrets, *extra_secrets) if s]
        raw = body if isinstance(body, bytes) else body.to_bytes()
        body = Body.from_bytes(body) if isinstance(body, bytes) else body
        if any(s.encode() in raw for s in secrets if len(s) >= 4):
            body = redact.scrubbed_body(body, secrets)
        return scrub(path, secrets), redact.query(query, secrets), body

    def lookup(self, method: str, path: str, query: str, body: Body) -> Recording | None:
        """The next recording for this request: in recorded order, then the last one again."""
        found = self.find(method, path, query, body)
        return None if found is None else found[1]

    def find(self, method: str, path: str, query: str, body: Body) -> tuple[Path, Recording] | None:
        """``lookup``, with the file the recording came from."""
        chosen = self.index.next(matching.request_key(method, path, query, body, self.ignore_fields))
        return None if chosen is None else (chosen, self.read(chosen))

    def closest(
        self, method: str, path: str, body: Body, limit: int = 500
    ) -> tuple[Path, list[matching.Difference]] | None:
        """The recording of the same route whose body differs in the fewest fields, and those differences
        (each field with the value asked for and the value recorded)."""
        wanted = matching.canonical(path, body, self.ignore_fields)
        best: tuple[Path, list[matching.Difference]] | None = None
        for candidate in self.index.of_route(method, path)[-limit:]:
            recorded = self.read(candidate)
            diff = matching.compare(
                wanted, matching.canonical(path, recorded.request_body, self.ignore_fields)
            )
            if best is None or len(diff) < len(best[1]):
                best = (candidate, diff)
        return best

    def all_paths(self) -> list[Path]:
        return self.index.paths()

    def used(self) -> set[Path]:
        """Recordings replayed or written since the store was loaded."""
        return self.index.used()

    def unused(self) -> list[Path]:
        used = self.used()
        return [p for p in self.all_paths() if p not in used]

    # --- writing ---------------------------------------------------------------------------------------

    def save(self, recording: Recording, *, extra_secrets: Iterable[str] = ()) -> Path:
        """Write one recording atomically (scrubbed) and index it; safe from several threads."""
        recording = redact.scrubbed(recording, (*self.secrets, *extra_secrets))
        default_key = matching.request_key(
            recording.method, recording.path, recording.query, recording.request_body
        )
        directory = self.root / endpoint_name(recording.path)
        directory.mkdir(parents=True, exist_ok=True)
        text = recording.dumps()
        path = persister.publish(directory, file_stem(recording, default_key), text)
        self.index.add_saved(self.key_of(recording), recording, path, len(text))
        return path
