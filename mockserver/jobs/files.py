"""Mistral's files, kept by the mock: bytes on disk, metadata in memory (and beside the bytes on disk).

A file is what ``POST /v1/files`` stored (its upload moved into place, never copied) or what a batch job
wrote (its output and error files). Its object is Mistral's, key for key in the order of live traffic
(ruby_llm, 2026-08): ``signature`` is the MD5 of the bytes, ``sample_type`` follows the purpose, ``num_lines``
counts the lines of a JSONL file (0 for a document, as live), ``mimetype`` is the part's type or else the
name's. With ``--files-dir`` the folder survives a restart, and each file's metadata sits beside its bytes;
without it the folder is temporary and removed when the mock stops.

Every method here touches the disk and runs in a worker thread (the source calls them so): none is awaited
on the event loop.

Ids are UUIDs, as Mistral's, derived from what was stored and how many times (the same uploads in the same
order get the same ids, so recordings made from the mock do not churn).
"""

import contextlib
import hashlib
import json
import mimetypes
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from mistral_wire.contract.errors import MistralError
from mistral_wire.contract.files import SAMPLE_TYPES, ListFilesQuery, UploadFileForm
from mockserver.forms import Upload

SPOOL = ".incoming"
METADATA = ".json"
# Types Python's table does not know, as Mistral's SDK names them (its list filter's example).
EXTRA_TYPES = {".jsonl": "application/jsonl"}
JSONL_PURPOSES = frozenset({"fine-tune", "batch", "agentic_safety"})
MAX_REPORTED_ERRORS = 10
UNDECODABLE = "Failed to decode data, please encode your file using UTF-8."


@dataclass
class StoredFile:
    id: str
    bytes: int
    created_at: int
    filename: str
    purpose: str
    sample_type: str
    num_lines: int | None
    mimetype: str | None
    source: str
    signature: str | None
    expires_at: int | None
    visibility: str | None

    def render(self) -> dict[str, Any]:
        """Mistral's file object, in the live API's key order."""
        fields = asdict(self)
        return {"id": fields.pop("id"), "object": "file", **fields}

    def retrieved(self) -> dict[str, Any]:
        """``GET /v1/files/{id}``: the object and ``deleted``."""
        return {**self.render(), "deleted": False}


def resource_id(kind: str, *parts: object) -> str:
    """A UUID (version 4 bits set) derived from what it names."""
    digest = hashlib.sha256(repr((kind, *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def mimetype_of(filename: str, content_type: str | None) -> str:
    if content_type and content_type.split(";")[0].strip() not in ("", "application/octet-stream"):
        return content_type.split(";")[0].strip()
    suffix = Path(filename).suffix.lower()
    return EXTRA_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


class FileStore:
    """The files of one mock, under one folder."""

    def __init__(self, root: Path | None = None) -> None:
        self._given = root
        self._root: Path | None = None
        self._files: dict[str, StoredFile] = {}
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        # Signs the URLs of ``GET /v1/files/{id}/url``; new at each start, so old URLs stop working.
        self.secret = os.urandom(32)

    # --- the folder ---------------------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The folder, made on first use (a temporary one without ``--files-dir``)."""
        with self._lock:
            if self._root is None:
                if self._given is None:
                    self._root = Path(tempfile.mkdtemp(prefix="mistral-mock-files-"))
                else:
                    self._given.mkdir(parents=True, exist_ok=True)
                    self._root = self._given
                    self._load(self._given)
            return self._root

    @property
    def spool(self) -> Path:
        """Where forms' file parts are written as they arrive (the same disk, so keeping one is a rename)."""
        return self.root / SPOOL

    def _load(self, root: Path) -> None:
        for meta in root.glob(f"*{METADATA}"):
            try:
                saved = json.loads(meta.read_text(encoding="utf-8"))
                saved.pop("object", None)
                stored = StoredFile(**saved)
            except (ValueError, TypeError, OSError):
                continue
            if (root / stored.id).is_file():
                self._files[stored.id] = stored
        shutil.rmtree(root / SPOOL, ignore_errors=True)

    def close(self) -> None:
        """Remove the folder if it is the mock's temporary one."""
        with self._lock:
            if self._given is None and self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None

    def path(self, file_id: str) -> Path:
        return self.root / file_id

    # --- storing ------------------------------------------------------------------------------------------

    def _next_id(self, kind: str, *parts: object) -> str:
        key = repr((kind, *parts))
        with self._lock:
            count = self._seen.get(key, 0)
            self._seen[key] = count + 1
            while True:
                candidate = resource_id(kind, *parts, count)
                if candidate not in self._files:
                    return candidate
                count += 1

    def _keep(self, stored: StoredFile) -> StoredFile:
        meta = self.root / f"{stored.id}{METADATA}"
        meta.write_text(json.dumps(stored.render()), encoding="utf-8")
        with self._lock:
            self._files[stored.id] = stored
        return stored

    def add_upload(self, upload: Upload, form: UploadFileForm) -> StoredFile:
        """Keep an uploaded file part (moved into place) with its metadata; Mistral's refusal of a
        fine-tuning file that is not JSONL is raised before anything is kept."""
        if form.purpose == "fine-tune":
            problem = jsonl_problem(upload.path)
            if problem is not None:
                raise problem
        file_id = self._next_id("file", upload.sha256, upload.filename, form.purpose)
        created = int(time.time())
        os.replace(upload.path, self.path(file_id))
        upload.claimed = True
        return self._keep(
            StoredFile(
                id=file_id,
                bytes=upload.size,
                created_at=created,
                filename=upload.filename,
                purpose=form.purpose,
                sample_type=SAMPLE_TYPES[form.purpose],
                num_lines=upload.lines if form.purpose in JSONL_PURPOSES else 0,
                mimetype=mimetype_of(upload.filename, upload.content_type),
                source="upload",
                signature=upload.md5,
                expires_at=created + form.expiry * 3600 if form.expiry else None,
                visibility=form.visibility,
            )
        )

    def create(
        self, filename: str, purpose: str, sample_type: str, source: str, write: Callable[[BinaryIO], None]
    ) -> StoredFile:
        """A file the mock writes itself (a batch job's output, its materialised inline requests)."""
        file_id = self._next_id("generated", filename, purpose, sample_type)
        path = self.path(file_id)
        md5 = hashlib.md5(usedforsecurity=False)
        with open(path, "wb") as handle:
            write(handle)
        size, lines, last = 0, 0, b"\n"
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                md5.update(chunk)
                size += len(chunk)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        return self._keep(
            StoredFile(
                id=file_id,
                bytes=size,
                created_at=int(time.time()),
                filename=filename,
                purpose=purpose,
                sample_type=sample_type,
                num_lines=lines + (1 if size and last != b"\n" else 0),
                mimetype=mimetype_of(filename, None),
                source=source,
                signature=md5.hexdigest(),
                expires_at=None,
                visibility="workspace",
            )
        )

    # --- reading ------------------------------------------------------------------------------------------

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def delete(self, file_id: str) -> bool:
        with self._lock:
            stored = self._files.pop(file_id, None)
        if stored is None:
            return False
        for path in (self.path(file_id), self.root / f"{file_id}{METADATA}"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return True

    def listing(self, query: ListFilesQuery) -> tuple[list[StoredFile], int]:
        """One page of the files the query selects, newest first, and how many it selects in all."""
        with self._lock:
            files = list(self._files.values())
        files.reverse()  # insertion order, newest first among equal times
        files.sort(key=lambda f: f.created_at, reverse=True)
        selected = [f for f in files if _selected(f, query)]
        start = max(query.page, 0) * max(query.page_size, 0)
        return selected[start : start + max(query.page_size, 0)], len(selected)


def _selected(stored: StoredFile, query: ListFilesQuery) -> bool:
    checks: Iterable[bool] = (
        query.purpose is None or stored.purpose == query.purpose,
        not query.sample_type or stored.sample_type in query.sample_type,
        not query.source or stored.source in query.source,
        not query.mimetypes or stored.mimetype in query.mimetypes,
        not query.search or query.search.lower() in stored.filename.lower(),
    )
    return all(checks)


def jsonl_problem(path: Path) -> MistralError | None:
    """Mistral's refusal of a fine-tuning file that is not UTF-8 JSONL, or None.

    The bodies are the live API's (mistralai/client-ts#95, 2025-04): ``{"detail": "Failed to decode data,
    please encode your file using UTF-8."}``, and ``{"detail": "Invalid file format.", "description":
    "Found N errors in this file. ...", "errors": [{"message": "line contains invalid json: ...",
    "line_number": n}]}``. The status is not in that report: the mock answers 400.
    """
    errors: list[dict[str, Any]] = []
    count = 0
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return MistralError(
                    400, {"detail": "Failed to decode data, please encode your file using UTF-8."}
                )
            if not line.strip():
                continue
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                count += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    reason = str(exc).split(" (char ")[0]
                    errors.append({"message": f"line contains invalid json: {reason}", "line_number": number})
    if not count:
        return None
    description = (
        f"Found {count} errors in this file. You can view supported formats here: "
        "https://docs.mistral.ai/capabilities/finetuning. "
    )
    return MistralError(400, {"detail": "Invalid file format.", "description": description, "errors": errors})
