"""Recording files on disk: their names, atomic writes, and reading them back.

Writes never leave a half-written file: the text goes to a hidden temporary file, is flushed to disk and
then published with ``os.link``, which fails instead of overwriting, so concurrent recorders (threads or
processes) of the same request get distinct names (``.2.json``, ``.3.json`` ...) in the order they finished. A
``kill -9`` can at worst leave a hidden temporary file; ``remove_stale`` (run when a store loads, as each
mode of ``mistral-mock serve`` does at startup, and by the importer) removes those whose writing process is
gone, and leaves alone the ones a live recorder sharing the folder is still writing.

A file's name says what it holds (``chat-what-is-the-weather-in-5f3a9c1e.json``): its endpoint, the words
of the request, its status when it failed, and the start of its request key.
"""

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mockserver.recording.format import Recording

_DECODER = json.JSONDecoder()
SEQUENCE = re.compile(r"^(?P<stem>[^.]+)(?:\.(?P<n>\d+))?\.json$")
# ``.<stem>.<pid>.<8 hex>.tmp``: the temporary name ``publish`` writes to.
_TEMPORARY = re.compile(r"^\..*\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")
_SLUG = re.compile(r"[^a-z0-9]+")
_ID = re.compile(r"^[0-9a-fA-F-]{16,}$")


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
    # Ids (a file's, a batch job's) are left out: every poll of every job is "batch-jobs".
    words = [w for w in path.strip("/").split("/") if w and w != "v1" and not _ID.match(w)]
    return _slug("-".join(words[:2])) or "root"


def _slug(text: str, limit: int = 40) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:limit].strip("-")


def _subject(recording: Recording) -> str:
    """A few words that say what the request was about."""
    body = recording.request_body.parsed()
    if not isinstance(body, dict):
        return recording.path.rsplit("/", 1)[-1] if recording.path.startswith("/v1/models/") else "list"
    form = body.get("multipart", body.get("form"))
    if isinstance(form, dict) and len(body) == 1:
        # A form's summary (an upload, a transcription): its file's name, else its model.
        file = form.get("file")
        named = file.get("filename") if isinstance(file, dict) else None
        model = form.get("model")
        return named if isinstance(named, str) else model if isinstance(model, str) else "form"
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
        kind = document.get("type")
        return kind if isinstance(kind, str) else "document"
    return body.get("model", "request") if isinstance(body.get("model"), str) else "request"


def file_stem(recording: Recording, key: str) -> str:
    endpoint = endpoint_name(recording.path)
    parts = [endpoint, _slug(_subject(recording)), key[:8]]
    if recording.status >= 400:
        parts.insert(2, str(recording.status))
    return "-".join(p for p in parts if p)


def read(path: Path) -> tuple[Recording, int]:
    """A recording file, parsed, and its size in characters."""
    try:
        text = path.read_text(encoding="utf-8")
        return Recording.from_json(json.loads(text)), len(text)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise RecordingError(f"{path}: not a readable recording ({exc})") from None


def read_request(path: Path) -> dict[str, Any]:
    """Only the request part of a recording file (the response can be large), for indexing."""
    try:
        text = path.read_text(encoding="utf-8")
        start = text.index("{", text.index('"request"'))
        request, _ = _DECODER.raw_decode(text, start)
    except (ValueError, OSError) as exc:
        raise RecordingError(f"{path}: not a readable recording ({exc})") from None
    if not isinstance(request, dict):
        raise RecordingError(f"{path}: not a readable recording (the request is not an object)")
    return request


def files(root: Path) -> Iterator[Path]:
    """Every recording file under ``root``; stale temporary files found on the way are removed."""
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            if name.startswith(".") and name.endswith(".tmp"):
                remove_if_stale(path)
            elif name.endswith(".json") and not name.startswith("."):
                yield path


def remove_stale(root: Path) -> int:
    """Remove the temporary files killed writers left under ``root``; return how many went."""
    removed = 0
    for directory, _, names in os.walk(root):
        for name in names:
            if name.startswith(".") and name.endswith(".tmp"):
                removed += remove_if_stale(Path(directory, name))
    return removed


# Temporary files this process is writing right now; any other one carrying its pid is a previous
# process's (a restarted container recorder is often pid 1 again).
_IN_FLIGHT: set[str] = set()
# Writing, syncing and linking one file takes milliseconds: a temporary file this old is stale whatever
# its pid says (the pid may have been reused by an unrelated process).
STALE_AFTER_SECONDS = 120


def in_flight(name: str, writing: bool) -> None:
    """Say that this process is (or no longer is) writing the temporary file ``name`` (a blob, as it
    streams), so that no store loading the same folder meanwhile takes it for a dead writer's."""
    if writing:
        _IN_FLIGHT.add(name)
    else:
        _IN_FLIGHT.discard(name)


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


def remove_if_stale(path: Path) -> bool:
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


def publish(directory: Path, stem: str, text: str) -> Path:
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
