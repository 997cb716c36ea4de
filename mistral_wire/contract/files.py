"""Mistral's files API: what an upload, a listing and a signed URL accept, and the values a file carries.

The upload is ``multipart/form-data`` (``file``, ``purpose``, ``expiry``, ``visibility``); the listing and the
signed URL take query parameters. The spec names the upload's body only inline (``MultiPartBodyParams``),
so its model is held against the installed SDK and the spec's inline schema by ``tests/wire``, not by the
component test.

Newest evidence wins: ``agentic_safety`` is a purpose in mistralai 3.7.0 and not in the spec snapshot, and
live traffic (ruby_llm, 2026-08) shows the sample type ``ocr_input`` for an OCR upload, in neither.
"""

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from mistral_wire.contract.base import Params

FilePurpose = Literal["fine-tune", "batch", "ocr", "agentic_safety"]
SampleType = Literal["pretrain", "instruct", "batch_request", "batch_result", "batch_error", "ocr_input"]
Source = Literal["upload", "repository", "mistral"]
FileVisibility = Literal["workspace", "user"]

DEFAULT_PURPOSE: FilePurpose = "fine-tune"
"""An upload without ``purpose``: the files API predates batch and OCR, when every file was a fine-tuning
set, and a file sent without a purpose is still validated as one (a JSONL refusal for a PDF sent that way,
mistralai/client-ts#95, 2025-04)."""

SAMPLE_TYPES: dict[str, SampleType] = {
    "fine-tune": "instruct",
    "batch": "batch_request",
    "ocr": "ocr_input",  # ruby_llm's live upload, 2026-08
    "agentic_safety": "instruct",  # assumption: no recording; the SDK names no sample type for it
}
"""The sample type an uploaded file gets from its purpose."""

MAX_FILE_BYTES = 512 * 1024 * 1024
"""The upload's documented limit: "The size of individual files can be a maximum of 512 MB" (the SDK's
``files.upload`` docstring)."""

SDK = "mistralai 3.7.0"


class UploadFileForm(Params):
    """The upload's form fields (``file`` holds the parser's token for the file part, never its bytes)."""

    FILE_FIELDS: ClassVar[frozenset[str]] = frozenset({"file"})
    NEWER_THAN_SPEC: ClassVar[dict[str, str]] = {"purpose": f"'agentic_safety' is in {SDK}'s FilePurpose"}

    # The unit of ``expiry`` is not documented (spec nor SDK); the mock reads it as hours, like the signed
    # URL's ``expiry``.
    expiry: int | None = None
    visibility: FileVisibility = "workspace"
    purpose: FilePurpose = DEFAULT_PURPOSE
    file: str


class ListFilesQuery(Params):
    """``GET /v1/files``. Unknown keys are ignored, as FastAPI ignores them (the SDK sends some)."""

    page: int = 0
    page_size: int = 100
    include_total: bool = True
    sample_type: list[SampleType] | None = None
    source: list[Source] | None = None
    search: str | None = None
    purpose: FilePurpose | None = None
    mimetypes: list[str] | None = None


class FilePath(Params):
    """``/v1/files/{file_id}...``: the id is a UUID (a 422 located at ``["path", "file_id"]`` otherwise)."""

    file_id: UUID


class SignedUrlQuery(Params):
    """``GET /v1/files/{file_id}/url``: "Number of hours before the URL becomes invalid. Defaults to 24h. Must
    be between 1h and 168h" (the spec)."""

    expiry: Annotated[int, Field(ge=1, le=168)] = 24
