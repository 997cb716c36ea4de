"""Form bodies (``multipart/form-data`` and url-encoded), read as they arrive: file parts go to disk.

Mistral's upload and transcription routes take forms, and a file may be 512 MB: a file part is never held
in memory. Each is written to a spool folder in bounded slices (in a thread: no disk write on the event
loop), hashed on the way (SHA-256 for matching recordings, MD5 for the file's ``signature``), and counted
(bytes and lines). Text fields are small (at most ``MAX_FIELD_BYTES`` each, Starlette's own part limit) and
kept as text. What cannot be read as a form is Mistral's (FastAPI's) 400 "There was an error parsing the
body"; a file over the limit is a 413.

A form is a value the pipeline, the sources and the recorder share: the fields, the uploads, and its
``summary`` (what a recording keeps of it and what matching compares: the fields, and each file's name, type,
size and digest, never its bytes). ``discard`` removes the spooled files nobody claimed.
"""

import asyncio
import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, MultipartReader, hdrs, web

from mistral_wire.contract.errors import MistralError, body_too_large, unparseable_body

MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
MAX_FIELD_BYTES = 1024 * 1024
SLICE = 1024 * 1024
"""Bytes gathered before each write to disk: the memory one upload holds, whatever its size."""


@dataclass
class Upload:
    """One file part, on disk."""

    name: str
    filename: str
    content_type: str | None
    path: Path
    size: int = 0
    sha256: str = ""
    md5: str = ""
    lines: int = 0
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    claimed: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "bytes": self.size,
            "sha256": self.sha256,
        }


@dataclass
class Form:
    kind: Literal["multipart", "form"]
    fields: dict[str, list[str]] = field(default_factory=dict)
    uploads: dict[str, list[Upload]] = field(default_factory=dict)

    def tokens(self) -> dict[str, list[str]]:
        """The file parts as the contract sees them: a token per part."""
        return {name: [u.token for u in parts] for name, parts in self.uploads.items()}

    def upload(self, token: str) -> Upload:
        for parts in self.uploads.values():
            for upload in parts:
                if upload.token == token:
                    return upload
        raise KeyError(token)

    def summary(self) -> dict[str, Any]:
        """The form as a recording keeps it and matching compares it: a key with one value keeps it alone,
        a repeated key a list; a file is its name, type, size and SHA-256."""
        body: dict[str, Any] = {}
        for name, values in self.fields.items():
            body[name] = values[0] if len(values) == 1 else list(values)
        for name, parts in self.uploads.items():
            summaries = [part.summary() for part in parts]
            body[name] = summaries[0] if len(summaries) == 1 else summaries
        return {self.kind: body}

    def discard(self) -> None:
        """Remove the spooled files no source kept."""
        for parts in self.uploads.values():
            for upload in parts:
                if not upload.claimed:
                    with contextlib.suppress(FileNotFoundError):
                        upload.path.unlink()


def is_form(content_type: str | None) -> bool:
    main = (content_type or "").split(";", 1)[0].strip().lower()
    return main in (MULTIPART, URLENCODED)


async def read(request: web.Request, spool: Path, max_file_bytes: int) -> Form:
    """The request's form; a body of another type reads as an empty form, as Starlette reads it."""
    main = (request.content_type or "").lower()
    if main == URLENCODED:
        return _urlencoded(await request.read())
    if main != MULTIPART:
        await request.read()
        return Form("form")
    form = Form("multipart")
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, MultipartReader):
                raise unparseable_body()
            await _part(part, form, spool, max_file_bytes)
    except MistralError:
        form.discard()
        raise
    except (ValueError, AssertionError, UnicodeDecodeError, LookupError):
        # aiohttp's multipart reader says a body is malformed with these (a missing boundary, a part
        # without headers, an unknown charset).
        form.discard()
        raise unparseable_body() from None
    except BaseException:
        form.discard()
        raise
    return form


def _urlencoded(raw: bytes) -> Form:
    form = Form("form")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise unparseable_body() from None
    for name, value in pairs:
        form.fields.setdefault(name, []).append(value)
    return form


async def _part(part: BodyPartReader, form: Form, spool: Path, max_file_bytes: int) -> None:
    name = part.name
    if name is None:
        raise unparseable_body()
    if part.filename is None:
        data = bytearray()
        while chunk := await part.read_chunk(64 * 1024):
            data.extend(chunk)
            if len(data) > MAX_FIELD_BYTES:
                raise unparseable_body()
        charset = part.get_charset("utf-8")
        form.fields.setdefault(name, []).append(bytes(data).decode(charset))
        return
    spool.mkdir(parents=True, exist_ok=True)
    upload = Upload(name, part.filename, part.headers.get(hdrs.CONTENT_TYPE), spool / uuid.uuid4().hex)
    form.uploads.setdefault(name, []).append(upload)
    await _spool(part, upload, max_file_bytes)


async def _spool(part: BodyPartReader, upload: Upload, max_file_bytes: int) -> None:
    """Write a file part to ``upload.path`` a slice at a time, hashing and counting on the way."""
    loop = asyncio.get_running_loop()
    sink = await loop.run_in_executor(None, _Sink, upload.path)
    try:
        pending = bytearray()
        while True:
            chunk = await part.read_chunk(256 * 1024)
            if chunk:
                upload.size += len(chunk)
                if upload.size > max_file_bytes:
                    raise body_too_large(None, max_file_bytes)
                pending.extend(chunk)
            if pending and (len(pending) >= SLICE or not chunk):
                data, pending = bytes(pending), bytearray()
                await loop.run_in_executor(None, sink.write, data)
            if not chunk:
                break
    finally:
        sink.close()
    upload.sha256, upload.md5 = sink.sha256.hexdigest(), sink.md5.hexdigest()
    # A last line without its newline is a line too.
    upload.lines = sink.lines + (1 if upload.size and sink.last != b"\n" else 0)


class _Sink:
    """Where a file part's bytes go: the file, both digests and the line count."""

    def __init__(self, path: Path) -> None:
        self.descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.lines = 0
        self.last = b"\n"

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.descriptor, view) :]
        self.sha256.update(data)
        self.md5.update(data)
        self.lines += data.count(b"\n")
        self.last = data[-1:]

    def close(self) -> None:
        os.close(self.descriptor)
