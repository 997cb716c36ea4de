"""Recordings on disk: one file per interaction, written atomically, found in O(1) through an index.

Writes never leave a half-written file: the text goes to a hidden temporary file, is flushed to disk and
then published with ``os.link``, which fails instead of overwriting, so concurrent recorders (threads or
processes) of the same request get distinct names (``.2.json``, ``.3.json`` ...) in the order they finished. A
``kill -9`` can at worst leave a hidden temporary file; every store start (``load``, which each mode of
``mistral-mock serve`` runs at startup, and the importer) removes those whose writing process is gone, and
leaves alone the ones a live recorder sharing the folder is still writing. Secrets are scrubbed before
anything is written.

The index maps each request key to its recordings in order. Replaying walks them in order and then keeps
answering with the last one, so a test that asks the same question three times gets the three recorded
answers.
"""

import json
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from mockserver.recording import matching, redact
from mockserver.recording.model import Body, Event, Recording

_DECODER = json.JSONDecoder()
_SEQUENCE = re.compile(r"^(?P<stem>[^.]+)(?:\.(?P<n>\d+))?\.json$")
# ``.<stem>.<pid>.<8 hex>.tmp``: the temporary name ``_publish`` writes to.
_TEMPORARY = re.compile(r"^\..*\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")
_SLUG = re.compile(r"[^a-z0-9]+")
CACHE_BYTES = 64 * 1024 * 1024
"""Recordings stay parsed until their files add up to this much: a CI suite's few thousand recordings are
read from disk once, and a replay of random picks among them costs no file read (half the CPU per answer
when 1,000 recordings were kept to 256 of them)."""


class RecordingError(ValueError):
    """A recording file that cannot be read; the message names the file."""


def endpoint_name(path: str) -> str:
    """The folder and name prefix for a path: chat, fim, embeddings, ocr, models, or the path's words."""
    known = {
        "/v1/chat/completions": "chat",
        "/v1/fim/completions": "fim",
        "/v1/embeddings": "embeddings",
        "/v1/ocr": "ocr",
    }
    if path in known:
        return known[path]
    if path.startswith("/v1/models"):
        return "models"
    words = [w for w in path.strip("/").split("/") if w and w != "v1"]
    return _slug("-".join(words[:2])) or "root"


def _slug(text: str, limit: int = 40) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:limit].strip("-")


def _subject(recording: Recording) -> str:
    """A few words that say what the request was about."""
    body = recording.request_body.parsed()
    if not isinstance(body, dict):
        return recording.path.rsplit("/", 1)[-1] if recording.path.startswith("/v1/models/") else "list"
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
                if isinstance(content, str) and content.strip():
                    return " ".join(content.split()[:6])
        return "conversation"
    for field in ("prompt", "input"):
        value = body.get(field)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, str) and value.strip():
            return " ".join(value.split()[:6])
    document = body.get("document")
    if isinstance(document, dict):
        name = (
            document.get("document_name") or document.get("document_url") or document.get("image_url") or ""
        )
        if isinstance(name, str) and not name.startswith("data:"):
            return name.rsplit("/", 1)[-1]
        return document.get("type", "document")
    return body.get("model", "request") if isinstance(body.get("model"), str) else "request"


def file_stem(recording: Recording, key: str) -> str:
    endpoint = endpoint_name(recording.path)
    parts = [endpoint, _slug(_subject(recording)), key[:8]]
    if recording.status >= 400:
        parts.insert(2, str(recording.status))
    return "-".join(p for p in parts if p)


def scrubbed(recording: Recording, secrets: Iterable[str]) -> Recording:
    secrets = list(secrets)

    def body(b: Body | None) -> Body | None:
        return None if b is None else _scrubbed_body(b, secrets)

    events = None
    if recording.events is not None:
        events = tuple(Event(e.at_ms, body(e.data)) for e in recording.events)  # type: ignore[arg-type]
    return replace(
        recording,
        path=redact.scrub(recording.path, secrets),
        query=redact.query(recording.query, secrets),
        request_headers=redact.scrub(redact.request_headers(recording.request_headers), secrets),
        request_body=body(recording.request_body),  # type: ignore[arg-type]
        response_headers=redact.scrub(redact.response_headers(recording.response_headers), secrets),
        response_body=body(recording.response_body),
        events=events,
        meta=redact.scrub(recording.meta, secrets),
    )


def _scrubbed_body(body: Body, secrets: list[str]) -> Body:
    if body.text is not None:
        return Body(text=redact.scrub(body.text, secrets))
    return Body(value=redact.scrub(body.value, secrets))


class RecordingStore:
    """The recordings under one directory, indexed by request key."""

    def __init__(self, root: Path, *, ignore_fields: Iterable[str] = (), secrets: Iterable[str] = ()) -> None:
        self.root = Path(root)
        self.ignore_fields = tuple(ignore_fields)
        self.secrets = tuple(s for s in secrets if s)
        self._index: dict[str, list[Path]] = {}
        self._by_route: dict[tuple[str, str], list[Path]] = {}
        self._cursor: dict[str, int] = {}
        self._used: set[Path] = set()
        self._cache: OrderedDict[Path, Recording] = OrderedDict()
        self._sizes: dict[Path, int] = {}
        self._cached_bytes = 0
        self._lock = threading.Lock()

    # --- reading ---------------------------------------------------------------------------------------

    def load(self) -> int:
        """Index every recording under the root; remove temporary files a killed recorder left."""
        self._index.clear()
        self._by_route.clear()
        self._cursor.clear()
        if not self.root.is_dir():
            return 0
        found: list[tuple[str, str, int, Path]] = []
        for directory, _, names in os.walk(self.root):
            for name in names:
                path = Path(directory, name)
                if name.startswith(".") and name.endswith(".tmp"):
                    _remove_if_stale(path)
                    continue
                if not name.endswith(".json") or name.startswith("."):
                    continue
                method, route, key = self._request_key(path)
                match = _SEQUENCE.match(name)
                sequence = int(match["n"]) if match and match["n"] else 1
                found.append((key, name, sequence, path))
                self._by_route.setdefault((method, route), []).append(path)
        found.sort(key=lambda item: (item[0], item[1].split(".", 1)[0], item[2]))
        for key, _, _, path in found:
            self._index.setdefault(key, []).append(path)
        return len(found)

    def clean(self) -> int:
        """Remove the temporary files killed writers left under the root; return how many went."""
        removed = 0
        for directory, _, names in os.walk(self.root):
            for name in names:
                if name.startswith(".") and name.endswith(".tmp"):
                    removed += _remove_if_stale(Path(directory, name))
        return removed

    def _request_key(self, path: Path) -> tuple[str, str, str]:
        """Method, path and key of a recording, parsing only its request part (the response can be large)."""
        try:
            text = path.read_text(encoding="utf-8")
            start = text.index("{", text.index('"request"'))
            request, _ = _DECODER.raw_decode(text, start)
            body = Body(text=request["text"]) if "text" in request else Body(value=request.get("body"))
            method, route = request["method"].upper(), request["path"]
            return (
                method,
                route,
                matching.request_key(method, route, request.get("query", ""), body, self.ignore_fields),
            )
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise RecordingError(f"{path}: not a readable recording ({exc})") from None

    def read(self, path: Path) -> Recording:
        with self._lock:  # the recorder saves (and caches) from a worker thread
            cached = self._cache.get(path)
            if cached is not None:
                self._cache.move_to_end(path)
                return cached
        try:
            text = path.read_text(encoding="utf-8")
            recording = Recording.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise RecordingError(f"{path}: not a readable recording ({exc})") from None
        with self._lock:
            self._remember(path, recording, len(text))
        return recording

    def _remember(self, path: Path, recording: Recording, size: int) -> None:
        """Keep ``recording`` parsed; forget the least recently used beyond ``CACHE_BYTES`` (lock held)."""
        self._cache[path] = recording
        self._cache.move_to_end(path)
        self._cached_bytes += size - self._sizes.get(path, 0)
        self._sizes[path] = size
        while self._cached_bytes > CACHE_BYTES and len(self._cache) > 1:
            forgotten, _ = self._cache.popitem(last=False)
            self._cached_bytes -= self._sizes.pop(forgotten, 0)

    def key_of(self, recording: Recording) -> str:
        return matching.request_key(
            recording.method, recording.path, recording.query, recording.request_body, self.ignore_fields
        )

    def __len__(self) -> int:
        return sum(len(paths) for paths in self._index.values())

    def as_saved(
        self, path: str, query: str, raw: bytes, extra_secrets: Iterable[str] = ()
    ) -> tuple[str, str, Body]:
        """A live request's path, query and body as its recording was written (keys scrubbed, credential
        parameters dropped), so that a request carrying a key still finds the recording it made."""
        secrets = [s for s in (*self.secrets, *extra_secrets) if s]
        body = Body.from_bytes(raw)
        if any(s.encode() in raw for s in secrets if len(s) >= 4):
            body = _scrubbed_body(body, secrets)
        return redact.scrub(path, secrets), redact.query(query, secrets), body

    def lookup(self, method: str, path: str, query: str, body: Body) -> Recording | None:
        """The next recording for this request: in recorded order, then the last one again."""
        key = matching.request_key(method, path, query, body, self.ignore_fields)
        with self._lock:
            paths = self._index.get(key)
            if not paths:
                return None
            position = self._cursor.get(key, 0)
            self._cursor[key] = position + 1
            chosen = paths[min(position, len(paths) - 1)]
            self._used.add(chosen)
        return self.read(chosen)

    def closest(self, method: str, path: str, body: Body, limit: int = 500) -> tuple[Path, list[str]] | None:
        """The recording of the same route whose body differs in the fewest fields, and those fields."""
        wanted = matching.canonical(path, body, self.ignore_fields)
        best: tuple[Path, list[str]] | None = None
        for candidate in self._by_route.get((method.upper(), path), [])[-limit:]:
            recorded = self.read(candidate)
            diff = matching.differences(
                wanted, matching.canonical(path, recorded.request_body, self.ignore_fields)
            )
            if best is None or len(diff) < len(best[1]):
                best = (candidate, diff)
        return best

    def all_paths(self) -> list[Path]:
        return [p for paths in self._index.values() for p in paths]

    def used(self) -> set[Path]:
        """Recordings replayed or written since the store was loaded."""
        return set(self._used)

    def unused(self) -> list[Path]:
        return [p for p in self.all_paths() if p not in self._used]

    # --- writing ---------------------------------------------------------------------------------------

    def save(self, recording: Recording, *, extra_secrets: Iterable[str] = ()) -> Path:
        """Write one recording atomically (scrubbed) and index it; safe from several threads."""
        recording = scrubbed(recording, (*self.secrets, *extra_secrets))
        key = self.key_of(recording)
        default_key = matching.request_key(
            recording.method, recording.path, recording.query, recording.request_body
        )
        directory = self.root / endpoint_name(recording.path)
        directory.mkdir(parents=True, exist_ok=True)
        text = recording.dumps()
        path = _publish(directory, file_stem(recording, default_key), text)
        with self._lock:
            self._index.setdefault(key, []).append(path)
            self._by_route.setdefault((recording.method, recording.path), []).append(path)
            self._remember(path, recording, len(text))
            self._used.add(path)
        return path


# Temporary files this process is writing right now; any other one carrying its pid is a previous
# process's (a restarted container recorder is often pid 1 again).
_IN_FLIGHT: set[str] = set()
# Writing, syncing and linking one file takes milliseconds: a temporary file this old is stale whatever
# its pid says (the pid may have been reused by an unrelated process).
STALE_AFTER_SECONDS = 120


def _writing(pid: int, name: str) -> bool:
    if pid == os.getpid():
        return name in _IN_FLIGHT
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a live process of another user
    return True


def _remove_if_stale(path: Path) -> bool:
    """Remove a temporary file unless a running recorder is still writing it."""
    match = _TEMPORARY.match(path.name)
    if match and _writing(int(match["pid"]), path.name):
        try:
            if time.time() - path.stat().st_mtime < STALE_AFTER_SECONDS:
                return False
        except FileNotFoundError:
            return False  # published meanwhile
    path.unlink(missing_ok=True)
    return True


def _publish(directory: Path, stem: str, text: str) -> Path:
    temporary = directory / f".{stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    _IN_FLIGHT.add(temporary.name)
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        sequence = 1
        while True:
            final = directory / (f"{stem}.json" if sequence == 1 else f"{stem}.{sequence}.json")
            try:
                os.link(temporary, final)
                break
            except FileExistsError:
                sequence += 1
    finally:
        temporary.unlink(missing_ok=True)
        _IN_FLIGHT.discard(temporary.name)
    _fsync_directory(directory)
    return final


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
