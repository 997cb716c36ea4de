"""Multipart forms, both ways, as they stream: the client's form read part by part, Mistral's form written.

A file upload (``POST /v1/files``, ``POST /v1/audio/transcriptions``) can be hundreds of megabytes: the shim
never holds it. ``ClientForm`` reads the client's text fields, then hands out the file part's bytes as they
arrive (within ``--max-upload-mb``, each read within ``--client-timeout``), then the fields that follow it
(the openai Node SDK sends the file first, the Python SDK last). ``MistralForm`` writes the form Mistral
gets, a part at a time, so the route can send the file's bytes upstream as they come in: the shim's memory
is a few chunks, whatever the file's size.
"""

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web

from shim.translate.forms import fold
from shim.translate.problem import OpenAIError

MULTIPART = "multipart/form-data"
FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024
"""A text field's size at most: fields are names and numbers, a transcription's prompt at most."""
MAX_FIELDS = 64
CHUNK = 256 * 1024


@dataclass(frozen=True)
class FormLimits:
    max_file_bytes: int
    max_file_mb: float
    idle_seconds: float


def _bad_form(message: str) -> OpenAIError:
    return OpenAIError(400, message, code="invalid_multipart_body", close_connection=True)


class ClientForm:
    """The client's ``multipart/form-data`` body, read in order: fields, the one file part, more fields."""

    def __init__(self, request: web.Request, limits: FormLimits, file_field: str = FILE_FIELD) -> None:
        self._request = request
        self._limits = limits
        self._file_field = file_field
        self._reader: MultipartReader | None = None
        self._fields = 0
        self.file: BodyPartReader | None = None
        self.filename: str = "file"
        self.content_type: str = "application/octet-stream"
        self.size = 0

    async def open(self) -> None:
        """Checks that the body is a form at all: OpenAI's 415 names what the route takes otherwise."""
        if self._request.content_type != MULTIPART:
            raise OpenAIError(
                415,
                f"Content-Type {self._request.headers.get('Content-Type')!r} is not supported on this route: "
                f"send the file as multipart/form-data (a '{self._file_field}' part and the other fields).",
                code="unsupported_media_type",
            )
        try:
            self._reader = await self._request.multipart()
        except (ValueError, AssertionError) as exc:
            raise _bad_form(f"The multipart body could not be read: {exc}.") from None

    async def _next(self) -> BodyPartReader | None:
        assert self._reader is not None, "ClientForm.open() was not awaited"
        try:
            async with asyncio.timeout(self._limits.idle_seconds):
                part = await self._reader.next()
        except TimeoutError:
            raise _too_slow(self._limits) from None
        except (ValueError, AssertionError, LookupError) as exc:
            raise _bad_form(f"The multipart body could not be read: {exc}.") from None
        if isinstance(part, MultipartReader):
            raise _bad_form("A nested multipart part is not a form field.")
        return part

    async def _text(self, part: BodyPartReader) -> str:
        data = bytearray()
        while chunk := await self._read(part):
            data += chunk
            if len(data) > MAX_FIELD_BYTES:
                raise _bad_form(f"The form field {part.name!r} is over {MAX_FIELD_BYTES} bytes.")
        try:
            return bytes(data).decode(part.get_charset("utf-8"))
        except (UnicodeDecodeError, LookupError):
            raise _bad_form(f"The form field {part.name!r} is not text in its charset.") from None

    async def _read(self, part: BodyPartReader) -> bytes:
        try:
            async with asyncio.timeout(self._limits.idle_seconds):
                return await part.read_chunk(CHUNK)
        except TimeoutError:
            raise _too_slow(self._limits) from None
        except (ValueError, AssertionError) as exc:
            raise _bad_form(f"The multipart body could not be read: {exc}.") from None
        except web.RequestPayloadError:
            raise _bad_form("The multipart body ended before the form did.") from None

    async def fields(self) -> list[tuple[str, str]]:
        """The text fields up to the file part (kept in ``file``) or the end of the form."""
        found: list[tuple[str, str]] = []
        while (part := await self._next()) is not None:
            if part.name == self._file_field:
                if self.file is not None:
                    raise _bad_form(f"The form has more than one '{self._file_field}' part.")
                self.file = part
                self.filename = os.path.basename(part.filename or "") or self._file_field
                self.content_type = part.headers.get("Content-Type") or "application/octet-stream"
                return found
            self._fields += 1
            if self._fields > MAX_FIELDS:
                raise _bad_form(f"The form has more than {MAX_FIELDS} fields.")
            found.append((part.name or "", await self._text(part)))
        return found

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file part's bytes as they arrive, within ``--max-upload-mb``."""
        assert self.file is not None
        while chunk := await self._read(self.file):
            self.size += len(chunk)
            if self.size > self._limits.max_file_bytes:
                raise OpenAIError(
                    413,
                    f"The file exceeds the shim's upload limit of {self._limits.max_file_bytes} bytes "
                    f"({self._limits.max_file_mb:g} MB, set with --max-upload-mb).",
                    code="file_too_large",
                    close_connection=True,
                )
            yield chunk


def _too_slow(limits: FormLimits) -> OpenAIError:
    return OpenAIError(
        408,
        f"The request body stopped arriving: nothing for {limits.idle_seconds:g} seconds (--client-timeout).",
        code="request_timeout",
        close_connection=True,
    )


def _quoted(text: str) -> str:
    """A name or filename inside a Content-Disposition's quotes, as browsers write it (HTML's rule)."""
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MistralForm:
    """The form Mistral gets, written a part at a time (the route sends the pieces as they are made)."""

    def __init__(self) -> None:
        self.boundary = os.urandom(16).hex()

    @property
    def content_type(self) -> str:
        return f"{MULTIPART}; boundary={self.boundary}"

    def field(self, name: str, value: str) -> bytes:
        return (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )

    def file_head(self, name: str, filename: str, content_type: str) -> bytes:
        """Everything before a file part's bytes; ``b"\\r\\n"`` ends the part after them."""
        safe_type = content_type if content_type.isprintable() else "application/octet-stream"
        return (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"; '
            f'filename="{_quoted(filename)}"\r\nContent-Type: {safe_type}\r\n\r\n'
        ).encode()

    def end(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode()


async def file_then_fields(
    mistral: MistralForm,
    form: ClientForm,
    leading: Mapping[str, Any],
    translate: Callable[[dict[str, Any]], Iterable[tuple[str, str]]],
) -> AsyncIterator[bytes]:
    """Mistral's form for a client's upload, as it arrives: the file part first, its bytes as they come,
    then the fields ``translate`` makes of the whole client form (``leading``, the fields before the file,
    and those after it: the Python SDK sends its fields last, so they are known only now)."""
    yield mistral.file_head(FILE_FIELD, form.filename, form.content_type)
    async for chunk in form.file_chunks():
        yield chunk
    yield b"\r\n"
    folded = {**leading, **fold(await form.fields()), FILE_FIELD: True}
    for name, value in translate(folded):
        yield mistral.field(name, value)
    yield mistral.end()
