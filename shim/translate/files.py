"""OpenAI's files API on Mistral's: the upload form, the listing's query, the file object, and file ids.

Both APIs keep files the same way (an upload, a listing, a retrieval, the content, a deletion), so most of
this is renaming. Three things are not:

- **Purposes.** OpenAI's ``batch`` and ``fine-tune`` are Mistral's own; ``user_data`` (documents and images
  a model reads) is Mistral's ``ocr``, the purpose of files its chat and OCR endpoints read. ``assistants``,
  ``vision`` (images for vision fine-tuning) and ``evals`` have no Mistral counterpart: a 400 that names the
  purpose, never a file stored under a purpose that means something else.
- **The listing.** OpenAI pages with a cursor (``after``, the last id seen), an ``order`` and a ``limit`` up
  to 10,000; Mistral with page numbers. The shim reads Mistral's pages and sorts, cuts and pages itself.
- **Ids.** A file the client uploaded keeps Mistral's id. The output and error files of a batch get ids
  that say so (``FileRef``): downloading one translates Mistral's lines into OpenAI's batch output lines as
  they stream (``shim.translate.batch``), and a batch's error file also carries the lines the shim itself
  refused. The shim keeps no state: the id says all a download needs.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlencode

from mistral_wire.contract.files import ListFilesQuery, UploadFileForm
from shim.translate import table
from shim.translate.context import Options
from shim.translate.problem import OpenAIError
from shim.translate.table import INTEGER, OBJECT, OMIT, STRING, Draft, Field, Table, refuse

ENDPOINT = "files"
PATH = "/v1/files"


# --- purposes -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purpose:
    """What one of OpenAI's upload purposes becomes on Mistral (None: refused), and why."""

    mistral: str | None
    reason: str


PURPOSES: Final[dict[str, Purpose]] = {
    "batch": Purpose("batch", "the same purpose: input files of batch jobs"),
    "fine-tune": Purpose("fine-tune", "the same purpose: training and validation sets (JSONL)"),
    "user_data": Purpose(
        "ocr",
        "documents and images a model reads: Mistral's ocr files, which its chat and OCR endpoints read",
    ),
    "assistants": Purpose(None, "Mistral has no Assistants API and no file store for one"),
    "vision": Purpose(None, "Mistral has no file purpose for vision fine-tuning images"),
    "evals": Purpose(None, "Mistral has no evals API"),
}
"""Every purpose OpenAI's upload accepts (a test holds this against OpenAI's spec)."""

BATCH_RESULTS: Final = frozenset({"batch_result", "batch_error"})
"""Mistral's sample types of the files its batch jobs write: OpenAI calls them ``batch_output``."""

OPENAI_PURPOSES: Final[dict[str, str]] = {"batch": "batch", "fine-tune": "fine-tune", "ocr": "user_data"}
"""Mistral's purposes → OpenAI's, for the file object. A purpose OpenAI has no name for (``agentic_safety``)
reads as ``user_data``, OpenAI's purpose for files of any use; ``mistral_purpose`` keeps Mistral's."""


def openai_purpose(file: Mapping[str, Any]) -> str:
    """OpenAI's purpose of a Mistral file object: its purpose, and ``batch_output`` for a job's results."""
    purpose = file.get("purpose")
    if purpose == "batch" and file.get("sample_type") in BATCH_RESULTS:
        return "batch_output"
    return OPENAI_PURPOSES.get(purpose, "user_data") if isinstance(purpose, str) else "user_data"


def mistral_purpose(value: Any, param: str = "purpose") -> str:
    """Mistral's purpose for OpenAI's, or the 400 that names the purpose and says why it cannot be."""
    if not isinstance(value, str):
        raise refuse(f"{param} must be a string.", param, "invalid_type")
    purpose = PURPOSES.get(value)
    if purpose is None:
        known = ", ".join(f"'{name}'" for name in PURPOSES)
        raise refuse(f"'{value}' is not a file purpose; OpenAI's are {known}.", param, "invalid_value")
    if purpose.mistral is None:
        kept = ", ".join(f"'{name}'" for name, p in PURPOSES.items() if p.mistral)
        raise refuse(
            f"The file purpose '{value}' is not supported on Mistral: {purpose.reason}. "
            f"Purposes Mistral has: {kept}.",
            param,
            "unsupported_value",
        )
    return purpose.mistral


# --- the upload form ----------------------------------------------------------------------------------------


def _file(value: Any, draft: Draft, options: Options) -> Any:
    return OMIT  # the part itself is streamed to Mistral; its row documents it


def _purpose(value: Any, draft: Draft, options: Options) -> Any:
    return mistral_purpose(value)


FIELDS: dict[str, Field] = {
    "file": Field(
        "keep",
        "the same part, streamed to Mistral as it arrives, with its filename and content type",
        STRING,
        convert=_file,
        required=True,
    ),
    "purpose": Field(
        "convert",
        "batch and fine-tune kept, user_data is Mistral's ocr; assistants, vision and evals: 400",
        STRING,
        convert=_purpose,
        required=True,
    ),
    "expires_after": Field(
        "drop",
        "the unit of Mistral's expiry is undocumented; the file is kept until deleted",
        OBJECT,
    ),
}
"""One row per field of OpenAI's ``CreateFileRequest`` (a test holds this against OpenAI's spec)."""

TABLE = Table(
    endpoint=ENDPOINT,
    fields=FIELDS,
    # Mistral's own form fields, for a client that knows them: expiry (undocumented unit) and visibility.
    mistral_only={None: frozenset(UploadFileForm.model_fields) - frozenset(FIELDS)},
    unknown_reason="it is neither an OpenAI nor a Mistral upload field",
)


def translate_upload(fields: Mapping[str, Any], options: Options) -> Draft:
    """Mistral's form fields (``draft.body``, text values) for OpenAI's folded upload form.

    ``fields`` holds ``file`` (any value: the part is streamed, not translated) once the part was seen.
    Raises OpenAI's 400 for a missing file or purpose, and for a purpose Mistral does not have.
    """
    return table.apply(TABLE, fields, options)


def check_upload_fields(fields: Mapping[str, Any], options: Options) -> None:
    """The fields read before the file part, checked before a byte of the file is sent: a purpose Mistral
    does not have is refused at once, not after the whole file went up."""
    table.apply(TABLE, {"file": True, "purpose": "batch", **fields}, options)


# --- ids ----------------------------------------------------------------------------------------------------

FileKind = Literal["file", "output", "errors"]
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
OUTPUT_PREFIX: Final = "file-batchout."
ERRORS_PREFIX: Final = "file-batcherr."
NONE: Final = "none"


@dataclass(frozen=True)
class FileRef:
    """What a file id the shim hands out stands for.

    ``file``: a Mistral file, served as it is (its id is Mistral's). ``output``: a batch job's output file,
    whose lines are translated on the way out. ``errors``: a batch job's error file (``mistral``, None when
    Mistral wrote none) and the file of the lines the shim refused itself (``refusals``), served as one.
    """

    kind: FileKind
    mistral: str | None
    refusals: str | None = None

    def encode(self) -> str:
        if self.kind == "file":
            assert self.mistral is not None
            return self.mistral
        if self.kind == "output":
            return f"{OUTPUT_PREFIX}{self.mistral}"
        return f"{ERRORS_PREFIX}{self.mistral or NONE}.{self.refusals or NONE}"

    @property
    def mistral_ids(self) -> tuple[str, ...]:
        """Every Mistral file behind this id, Mistral's own first."""
        return tuple(found for found in (self.mistral, self.refusals) if found)


def _uuid_or_none(text: str) -> str | Literal[False] | None:
    if text == NONE:
        return None
    return text if UUID.fullmatch(text) else False


def decode(file_id: str) -> FileRef | None:
    """The ``FileRef`` of an id the shim (or Mistral) could have handed out; None for any other id, which
    no file has (answered 404 without asking Mistral, whose ids are UUIDs)."""
    if UUID.fullmatch(file_id):
        return FileRef("file", file_id)
    if file_id.startswith(OUTPUT_PREFIX):
        found = _uuid_or_none(file_id[len(OUTPUT_PREFIX) :])
        return FileRef("output", found) if found else None
    if file_id.startswith(ERRORS_PREFIX):
        parts = file_id[len(ERRORS_PREFIX) :].split(".")
        if len(parts) != 2:
            return None
        mistral, refusals = (_uuid_or_none(part) for part in parts)
        if mistral is False or refusals is False or (mistral is None and refusals is None):
            return None
        return FileRef("errors", mistral, refusals)
    return None


def not_found(file_id: str) -> OpenAIError:
    """OpenAI's 404 for a file id no file has."""
    return OpenAIError(404, f"No such File object: {file_id}", param="id", code="file_not_found")


def listed_ref(file: Mapping[str, Any]) -> FileRef:
    """The ref of a file as Mistral lists it: a job's results and errors are served translated."""
    file_id = str(file.get("id"))
    sample = file.get("sample_type")
    if file.get("purpose") == "batch" and sample == "batch_result":
        return FileRef("output", file_id)
    if file.get("purpose") == "batch" and sample == "batch_error":
        return FileRef("errors", file_id)
    return FileRef("file", file_id)


# --- the file object ----------------------------------------------------------------------------------------

MISTRAL_EXTRAS: Final = ("sample_type", "source", "num_lines", "mimetype", "signature", "visibility")
"""Mistral's keys kept after OpenAI's (OpenAI's file object is open): nothing Mistral said is lost."""


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def openai_file(
    file: Mapping[str, Any], ref: FileRef | None = None, size: int | None = None
) -> dict[str, Any]:
    """OpenAI's ``OpenAIFile`` for a Mistral file object (``ref``: the id to show, else as listed).

    ``status`` is always ``processed``: OpenAI still requires the deprecated key, and a Mistral file is
    usable once its upload answered. ``expires_at`` is given only when Mistral set one (OpenAI's schema has
    no null for it); ``size`` overrides ``bytes`` for a file served as several (a batch's errors).
    """
    shown = ref or listed_ref(file)
    out: dict[str, Any] = {
        "id": shown.encode(),
        "object": "file",
        "bytes": size if size is not None else (_integer(file.get("bytes")) or 0),
        "created_at": _integer(file.get("created_at")) or 0,
        "filename": file.get("filename") if isinstance(file.get("filename"), str) else "",
        "purpose": "batch_output" if shown.kind != "file" else openai_purpose(file),
        "status": "processed",
    }
    expires = _integer(file.get("expires_at"))
    if expires is not None:
        out["expires_at"] = expires
    purpose = file.get("purpose")
    if isinstance(purpose, str) and purpose not in OPENAI_PURPOSES:
        out["mistral_purpose"] = purpose
    out.update((key, file[key]) for key in MISTRAL_EXTRAS if file.get(key) is not None)
    return out


def deleted(file_id: str, gone: bool) -> dict[str, Any]:
    """OpenAI's ``DeleteFileResponse``."""
    return {"id": file_id, "object": "file", "deleted": gone}


# --- the listing --------------------------------------------------------------------------------------------

MAX_LIMIT: Final = 10_000
PAGE_SIZE: Final = 100
"""Files asked of Mistral per page while the shim reads the whole listing."""
MAX_PAGES: Final = 1_000
"""Pages read at most (100,000 files): a listing never loops on an upstream that always says "more"."""


def _limit(value: Any, draft: Draft, options: Options) -> Any:
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise refuse(f"limit must be an integer, not {value!r}.", "limit", "invalid_type") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise refuse(f"limit must be between 1 and {MAX_LIMIT}, not {limit}.", "limit", "invalid_value")
    draft.notes["limit"] = limit
    return OMIT


def _order(value: Any, draft: Draft, options: Options) -> Any:
    if value not in ("asc", "desc"):
        raise refuse(f"order must be 'asc' or 'desc', not {value!r}.", "order", "invalid_value")
    draft.notes["order"] = value
    return OMIT


def _after(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["after"] = value
    return OMIT


def _list_purpose(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["purpose"] = value
    if value == "batch_output":
        draft.notes["sample_types"] = sorted(BATCH_RESULTS)
        return "batch"
    purpose = PURPOSES.get(value)
    if purpose is None or purpose.mistral is None:
        draft.notes["nothing"] = True  # a purpose no Mistral file can have: an empty list
        return OMIT
    if value == "batch":
        draft.notes["sample_types"] = ["batch_request"]
    return purpose.mistral


LIST_FIELDS: dict[str, Field] = {
    "purpose": Field(
        "convert",
        "Mistral's purpose (batch_output: its batch files of results and errors); others list nothing",
        STRING,
        convert=_list_purpose,
    ),
    "limit": Field(
        "convert",
        "Mistral pages by number: the shim reads its pages and cuts the list",
        INTEGER,
        convert=_limit,
    ),
    "after": Field(
        "convert",
        "Mistral has no cursor: the shim starts after that id in the sorted list",
        STRING,
        convert=_after,
    ),
    "order": Field(
        "convert",
        "Mistral has no order: the shim sorts by creation time, newest first by default",
        STRING,
        convert=_order,
    ),
}
"""One row per query parameter of OpenAI's ``GET /files``."""

PAGING: Final = frozenset({"page", "page_size", "include_total"})
"""Mistral's paging, which the shim drives itself."""


LIST_TABLE = Table(
    endpoint="files listing",
    fields=LIST_FIELDS,
    mistral_only={None: frozenset(ListFilesQuery.model_fields) - frozenset(LIST_FIELDS) - PAGING},
    unknown_reason="it is neither an OpenAI nor a Mistral files listing parameter",
)


@dataclass(frozen=True)
class Listing:
    """How to read Mistral's listing, and how to cut it into OpenAI's page."""

    query: tuple[tuple[str, str], ...]
    limit: int = MAX_LIMIT
    after: str | None = None
    order: str = "desc"
    purpose: str | None = None
    nothing: bool = False


def plan_listing(query: Mapping[str, str], options: Options) -> Listing:
    """The Mistral query (without its page) and the page OpenAI's query asks for."""
    draft = table.apply(LIST_TABLE, query, options)
    pairs = [(key, str(value)) for key, value in draft.body.items()]
    pairs += [("sample_type", sample) for sample in draft.notes.get("sample_types", [])]
    return Listing(
        tuple(pairs),
        limit=draft.notes.get("limit", MAX_LIMIT),
        after=draft.notes.get("after"),
        order=draft.notes.get("order", "desc"),
        purpose=draft.notes.get("purpose"),
        nothing=bool(draft.notes.get("nothing")),
    )


def page_query(listing: Listing, page: int) -> str:
    """Mistral's query string for one page of the listing."""
    return urlencode(
        [*listing.query, ("page", str(page)), ("page_size", str(PAGE_SIZE)), ("include_total", "true")]
    )


def more_pages(answer: Mapping[str, Any], page: int, seen: int) -> bool:
    """Whether Mistral has files after ``page``: by its ``total`` when it gave one, else by a full page."""
    data = answer.get("data")
    got = len(data) if isinstance(data, list) else 0
    total = _integer(answer.get("total"))
    if total is not None:
        return seen < total and got > 0 and page + 1 < MAX_PAGES
    return got >= PAGE_SIZE and page + 1 < MAX_PAGES


def openai_list(files: Sequence[Mapping[str, Any]], listing: Listing) -> dict[str, Any]:
    """OpenAI's ``ListFilesResponse`` from every Mistral file the query selected.

    Sorted by creation time (ties by id), newest first unless ``order=asc``; starting after the ``after``
    id (nothing when that id is not in the list); ``limit`` files, ``has_more`` when more follow.
    """
    shown = [openai_file(file) for file in files]
    if listing.purpose is not None:
        shown = [file for file in shown if file["purpose"] == listing.purpose]
    shown.sort(key=lambda file: (file["created_at"], file["id"]), reverse=listing.order == "desc")
    if listing.after is not None:
        ids = [file["id"] for file in shown]
        shown = shown[ids.index(listing.after) + 1 :] if listing.after in ids else []
    page = shown[: listing.limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(shown) > len(page),
    }
