"""OpenAI's batches on Mistral's batch jobs: the create request, every input line, every output line, the job.

**Input.** OpenAI's input file has one request per line (``custom_id``, ``method``, ``url``, ``body``);
Mistral's has ``custom_id`` and ``body``, and the model is the job's. Each line's body goes through the very
translator of its live route (chat's table and repairs, embeddings', moderations'), so a batch line and a
live request become the same Mistral request. A line the shim would refuse live is not sent: it becomes an
error line in OpenAI's error-file format, as OpenAI's own refusal of that request would be, and the batch
goes on without it. What OpenAI refuses for the whole batch is refused for the whole batch (a 400 naming
the line): a line that is not a JSON request, a ``url`` that is not the batch's endpoint, lines for two
models (Mistral's job has one).

**Output.** Mistral's output and error lines (``{"id", "custom_id", "response": {"status_code", "body"},
"error"}``) become OpenAI's (``response.request_id``; the body translated as its live route's answer is,
Mistral's refusals as OpenAI's errors), one line at a time as the file streams (``LineSplitter``).

**State.** The shim keeps none. What a later call needs is written where Mistral keeps it: a line's answer
translation in its ``custom_id`` (``encode_custom_id``, only when the answer needs it), and the batch's own
(its OpenAI input file, window, refused lines and the file holding them) in one key of the job's
``metadata`` (``ShimState``), read back on every retrieval and listing.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from mistral_wire import jsonio
from shim.translate import embeddings, errors, moderations, table
from shim.translate.chat import request as chat
from shim.translate.chat.answer import translate_chat_response
from shim.translate.context import ChatContext, Options
from shim.translate.files import FileRef
from shim.translate.problem import OpenAIError
from shim.translate.table import OBJECT, OMIT, STRING, Draft, Field, Table, refuse

ENDPOINT = "batches"
PATH = "/v1/batch/jobs"
STATE_KEY: Final = "openai_shim"
"""The key of the job's ``metadata`` that holds the shim's state (Mistral keys are at most 32 characters)."""
CUSTOM_ID_MARK: Final = "shim~"


# --- endpoints ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRoute:
    """How a line's body becomes Mistral's: the live route's table, its checks and its translation."""

    table: Table
    translate: Callable[[Mapping[str, Any], Options], Draft]


def _chat(body: Mapping[str, Any], options: Options) -> Draft:
    table.check_types(chat.TABLE, body)
    return table.apply(chat.TABLE, body, options)


def _embeddings(body: Mapping[str, Any], options: Options) -> Draft:
    table.check_types(embeddings.TABLE, body)
    return table.apply(embeddings.TABLE, body, options)


def _moderations(body: Mapping[str, Any], options: Options) -> Draft:
    table.check_types(moderations.TABLE, body)
    return table.apply(moderations.TABLE, body, options)


ROUTES: Final[dict[str, LineRoute]] = {
    "/v1/chat/completions": LineRoute(chat.TABLE, _chat),
    "/v1/embeddings": LineRoute(embeddings.TABLE, _embeddings),
    "/v1/moderations": LineRoute(moderations.TABLE, _moderations),
}

ENDPOINTS: Final[dict[str, str | None]] = {
    "/v1/chat/completions": "/v1/chat/completions",
    "/v1/embeddings": "/v1/embeddings",
    "/v1/moderations": "/v1/moderations",
    "/v1/completions": None,
    "/v1/responses": None,
    "/v1/images/generations": None,
    "/v1/images/edits": None,
    "/v1/videos": None,
}
"""Every endpoint OpenAI's batches take → Mistral's (None: refused, for the reason in ``REFUSED``)."""

REFUSED: Final[dict[str, str]] = {
    "/v1/completions": "a legacy completion goes to Mistral's chat or fill-in-the-middle by its prompt, and "
    "a job has one endpoint; send chat completions",
    "/v1/responses": "Mistral's batch jobs do not run the Responses API; send chat completions",
    "/v1/images/generations": "Mistral has no image generation endpoint",
    "/v1/images/edits": "Mistral has no image editing endpoint",
    "/v1/videos": "Mistral has no video endpoint",
}


# --- the create request -------------------------------------------------------------------------------------


def _input_file_id(value: Any, draft: Draft, options: Options) -> Any:
    if not isinstance(value, str) or not value:
        raise refuse("input_file_id must be a file id.", "input_file_id", "invalid_type")
    draft.notes["input_file_id"] = value
    return OMIT  # the file is translated, and Mistral's job reads the translation


def _endpoint(value: Any, draft: Draft, options: Options) -> Any:
    if value not in ENDPOINTS:
        known = ", ".join(ENDPOINTS)
        raise refuse(f"endpoint must be one of {known}, not {value!r}.", "endpoint", "invalid_value")
    mistral = ENDPOINTS[value]
    if mistral is None:
        raise refuse(
            f"Batches for {value} are not supported on Mistral: {REFUSED[value]}.",
            "endpoint",
            "unsupported_value",
        )
    draft.notes["endpoint"] = value
    return mistral


MAX_HOURS: Final = 168
"""Mistral's longest ``timeout_hours``."""


def _completion_window(value: Any, draft: Draft, options: Options) -> Any:
    hours = value[:-1] if isinstance(value, str) and value.endswith("h") else None
    if hours is None or not hours.isdigit() or not 1 <= int(hours) <= MAX_HOURS:
        raise refuse(
            f"completion_window must be '24h' (or any whole number of hours up to {MAX_HOURS}h, as Mistral "
            f"allows), not {value!r}.",
            "completion_window",
            "invalid_value",
        )
    draft.notes["completion_window"] = value
    return int(hours)


def _metadata(value: Any, draft: Draft, options: Options) -> Any:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise refuse("metadata must be an object of strings.", "metadata", "invalid_type")
    if STATE_KEY in value:
        raise refuse(f"metadata key {STATE_KEY!r} is the shim's own.", "metadata", "invalid_value")
    return dict(value)


FIELDS: dict[str, Field] = {
    "input_file_id": Field(
        "convert",
        "the file is read, each line translated as its live route translates it, and uploaded as the job's "
        "input (lines the shim refuses go to the error file)",
        STRING,
        convert=_input_file_id,
        required=True,
    ),
    "endpoint": Field(
        "keep",
        "chat completions, embeddings and moderations; the others have no Mistral batch endpoint (400)",
        STRING,
        convert=_endpoint,
        required=True,
    ),
    "completion_window": Field(
        "rename",
        "Mistral's timeout_hours ('24h' is 24; up to 168h, as Mistral allows)",
        STRING,
        convert=_completion_window,
        target="timeout_hours",
        required=True,
    ),
    "metadata": Field(
        "keep", "the same map of strings; the shim adds one key of its own", OBJECT, convert=_metadata
    ),
    "output_expires_after": Field("drop", "Mistral keeps a job's files until they are deleted", OBJECT),
}
"""One row per field of OpenAI's ``CreateBatchRequest`` (a test holds this against OpenAI's spec)."""

TABLE = Table(
    endpoint=ENDPOINT,
    fields=FIELDS,
    mistral_only={None: frozenset()},
    unknown_reason="it is not a batch parameter",
)


@dataclass(frozen=True)
class CreatePlan:
    input_file_id: str
    endpoint: str
    completion_window: str
    timeout_hours: int
    metadata: dict[str, str]
    dropped: tuple[str, ...] = ()


def plan_create(body: Mapping[str, Any], options: Options) -> CreatePlan:
    """What ``POST /v1/batches`` asks for, checked: the input file, the endpoint, the window, metadata."""
    table.check_types(TABLE, body)
    draft = table.apply(TABLE, body, options)
    return CreatePlan(
        input_file_id=draft.notes["input_file_id"],
        endpoint=draft.notes["endpoint"],
        completion_window=draft.notes["completion_window"],
        timeout_hours=draft.body["timeout_hours"],
        metadata=draft.body.get("metadata") or {},
        dropped=tuple(draft.dropped),
    )


# --- the shim's state, in the job's metadata ----------------------------------------------------------------


@dataclass(frozen=True)
class ShimState:
    """What the shim must know of a batch later: its OpenAI input file and window, the lines it refused
    itself, and the Mistral file that holds their error lines."""

    input_file_id: str | None = None
    completion_window: str | None = None
    refused: int = 0
    refusals_file: str | None = None

    def encode(self) -> str:
        state: dict[str, Any] = {
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
        }
        if self.refused:
            state.update(refused=self.refused, refusals_file=self.refusals_file)
        return jsonio.compact(state)


def read_state(metadata: Any) -> tuple[ShimState, dict[str, str]]:
    """The shim's state and the client's own metadata, from a job's ``metadata`` (a job made elsewhere has
    no state: its defaults)."""
    given = dict(metadata) if isinstance(metadata, dict) else {}
    raw = given.pop(STATE_KEY, None)
    try:
        found = jsonio.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        found = {}
    found = found if isinstance(found, dict) else {}

    def text(key: str) -> str | None:
        value = found.get(key)
        return value if isinstance(value, str) else None

    refused = found.get("refused")
    state = ShimState(
        text("input_file_id"),
        text("completion_window"),
        refused if isinstance(refused, int) and not isinstance(refused, bool) else 0,
        text("refusals_file"),
    )
    return state, {k: v for k, v in given.items() if isinstance(v, str)}


def job_request(plan: CreatePlan, input_file: str, model: str | None, state: ShimState) -> dict[str, Any]:
    """Mistral's ``CreateBatchJobRequest``, in the order Mistral's SDK writes it."""
    body: dict[str, Any] = {"endpoint": ENDPOINTS[plan.endpoint], "input_files": [input_file]}
    if model is not None:
        body["model"] = model
    body["metadata"] = {**plan.metadata, STATE_KEY: state.encode()}
    body["timeout_hours"] = plan.timeout_hours
    return body


# --- custom ids: the answer translation a line needs --------------------------------------------------------

LEGACY_FUNCTIONS: Final = "f"
BASE64: Final = "b"


def encode_custom_id(custom_id: str, flags: str) -> str:
    """The custom id Mistral gets: the client's, unless its answer needs translating specially (legacy
    ``functions``, base64 embeddings) or it could be read as marked: ``shim~<flags>~<custom_id>``."""
    if not flags and not custom_id.startswith(CUSTOM_ID_MARK):
        return custom_id
    return f"{CUSTOM_ID_MARK}{flags}~{custom_id}"


def decode_custom_id(given: Any) -> tuple[Any, str]:
    """The client's custom id and the line's flags, from the custom id Mistral echoes."""
    if not isinstance(given, str) or not given.startswith(CUSTOM_ID_MARK):
        return given, ""
    flags, _, custom_id = given[len(CUSTOM_ID_MARK) :].partition("~")
    return custom_id, flags


# --- the input file, line by line ---------------------------------------------------------------------------


class LineSplitter:
    """A byte stream's lines, as whole lines, however the stream is cut (the rest of a line is kept)."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        self._pending += chunk
        if b"\n" not in chunk:
            return []
        *lines, rest = bytes(self._pending).split(b"\n")
        self._pending = bytearray(rest)
        return lines

    def close(self) -> list[bytes]:
        rest, self._pending = bytes(self._pending), bytearray()
        return [rest] if rest.strip() else []


def request_id(seed: str) -> str:
    """A request id for a line, the same every time the line is translated (OpenAI's lines carry one)."""
    return "req_" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def refused_line(custom_id: Any, error: OpenAIError, seed: str) -> dict[str, Any]:
    """OpenAI's error-file line for a request refused with ``error``, as OpenAI writes its own refusals."""
    return {
        "id": "batch_req_" + hashlib.sha256(f"line:{seed}".encode()).hexdigest()[:32],
        "custom_id": custom_id,
        "response": {"status_code": error.status, "request_id": request_id(seed), "body": error.body()},
        "error": None,
    }


def _batch_refusal(number: int, message: str, code: str = "invalid_batch_line") -> OpenAIError:
    return OpenAIError(400, f"Line {number} of the input file: {message}", param="input_file_id", code=code)


@dataclass
class InputTranslation:
    """One pass over an OpenAI input file: each line's Mistral line, or its refusal.

    ``mistral_line`` answers the line Mistral's job gets (None when the shim refuses it; ``error_line`` then
    has its error line) and raises OpenAI's 400 for what fails the whole batch. Kept: counts and the model,
    never the lines, so a pass's memory does not grow with the file.
    """

    endpoint: str
    options: Options
    file_id: str = ""
    lines: int = 0
    accepted: int = 0
    refused: int = 0
    model: str | None = None
    first_refusal: str | None = None
    _last_error: dict[str, Any] | None = field(default=None, repr=False)

    def mistral_line(self, raw: bytes) -> bytes | None:
        self._last_error = None
        if not raw.strip():
            return None
        self.lines += 1
        number = self.lines
        try:
            line = jsonio.loads(raw)
        except ValueError:
            raise _batch_refusal(number, "not a JSON object.") from None
        if not isinstance(line, dict):
            raise _batch_refusal(number, "not a JSON object.")
        custom_id = line.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            raise _batch_refusal(number, "custom_id must be a non-empty string.")
        if line.get("method", "POST") != "POST":
            raise _batch_refusal(number, f"method must be POST, not {line.get('method')!r}.")
        url = line.get("url")
        if url is not None and url != self.endpoint:
            raise _batch_refusal(number, f"url {url!r} is not the batch's endpoint {self.endpoint!r}.")
        body = line.get("body")
        if not isinstance(body, dict):
            raise _batch_refusal(number, "body must be a JSON object.")
        try:
            mistral, flags = self._translate(body)
        except OpenAIError as error:
            self.refused += 1
            self.first_refusal = self.first_refusal or f"line {number} ({custom_id}): {error.message}"
            self._last_error = refused_line(custom_id, error, f"{self.file_id}:{number}:{custom_id}")
            return None
        model = mistral.pop("model", None)
        if self.model is None:
            self.model = model
        elif model != self.model:
            raise _batch_refusal(
                number,
                f"the model {model!r} is not the batch's {self.model!r}: a Mistral batch job runs one model "
                "(after aliases), so every line must name the same one.",
                "mixed_models",
            )
        self.accepted += 1
        out = {"custom_id": encode_custom_id(custom_id, flags), "body": mistral}
        return jsonio.dumps(out) + b"\n"

    def error_line(self) -> bytes | None:
        """The error line of the last line ``mistral_line`` refused (None when it was not refused)."""
        return None if self._last_error is None else jsonio.dumps(self._last_error) + b"\n"

    def _translate(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        if body.get("stream") is True:
            raise refuse("stream is not supported in a batch: each line is answered whole.", "stream")
        if not isinstance(body.get("model"), str) and self.endpoint != "/v1/moderations":
            raise refuse("you must provide a model parameter.", "model")
        draft = ROUTES[self.endpoint].translate(
            {k: v for k, v in body.items() if k != "stream"}, self.options
        )
        flags = ""
        if draft.notes.get("legacy_functions"):
            flags += LEGACY_FUNCTIONS
        if draft.notes.get("encoding") == "base64":
            flags += BASE64
        return draft.body, flags


# --- the output and error files, line by line ---------------------------------------------------------------


def _answer(body: Any, flags: str) -> Any:
    """A successful line's body as its live route answers it (the route read from the body's shape)."""
    if not isinstance(body, dict):
        return body
    if isinstance(body.get("choices"), list):
        return translate_chat_response(body, ChatContext(legacy_functions=LEGACY_FUNCTIONS in flags))
    if isinstance(body.get("results"), list):
        return moderations.translate_response(body, len(body["results"]))
    if isinstance(body.get("data"), list):
        count = len(body["data"])
        encoding: embeddings.Encoding = "base64" if BASE64 in flags else "float"
        plan = embeddings.EmbeddingPlan(bodies=(), sizes=(count,), encoding=encoding)
        return embeddings.merge_embedding_responses(plan, [body])
    return body


def translate_output_line(raw: bytes) -> bytes:
    """One of Mistral's output or error lines as OpenAI's batch output line (a blank line stays out)."""
    if not raw.strip():
        return b""
    try:
        line = jsonio.loads(raw)
    except ValueError:
        line = None
    if not isinstance(line, dict):
        failed = OpenAIError(502, "Mistral wrote a result line that is not JSON.", "server_error")
        return jsonio.dumps(refused_line(None, failed, raw.decode("utf-8", "replace"))) + b"\n"
    line_id = str(line.get("id") or "")
    custom_id, flags = decode_custom_id(line.get("custom_id"))
    response = line.get("response")
    out_response: dict[str, Any] | None = None
    if isinstance(response, dict):
        status = response.get("status_code")
        body = response.get("body")
        if status == 200:
            try:
                out_response = {
                    "status_code": 200,
                    "request_id": request_id(line_id),
                    "body": _answer(body, flags),
                }
            except OpenAIError as failed:
                out_response = {
                    "status_code": failed.status,
                    "request_id": request_id(line_id),
                    "body": failed.body(),
                }
        else:
            code = status if isinstance(status, int) else 500
            refusal = errors.from_mistral(code, jsonio.dumps(body), {})
            out_response = {
                "status_code": refusal.status,
                "request_id": request_id(line_id),
                "body": refusal.body(),
            }
    error = line.get("error")
    out_error = None
    if isinstance(error, dict):
        out_error = {"code": str(error.get("code")) if error.get("code") is not None else None,
                     "message": str(error.get("message") or "")}  # fmt: skip
    elif isinstance(error, str):
        out_error = {"code": None, "message": error}
    out = {"id": line_id, "custom_id": custom_id, "response": out_response, "error": out_error}
    return jsonio.dumps(out) + b"\n"


class OutputTranslation:
    """A Mistral result file's bytes in, OpenAI's lines out, as they stream."""

    def __init__(self) -> None:
        self._lines = LineSplitter()

    def feed(self, chunk: bytes) -> bytes:
        return b"".join(translate_output_line(line) for line in self._lines.feed(chunk))

    def close(self) -> bytes:
        return b"".join(translate_output_line(line) for line in self._lines.close())


# --- the batch object ---------------------------------------------------------------------------------------

STATUSES: Final[dict[str, str]] = {
    "QUEUED": "validating",
    "RUNNING": "in_progress",
    "SUCCESS": "completed",
    "FAILED": "failed",
    "TIMEOUT_EXCEEDED": "expired",
    "CANCELLATION_REQUESTED": "cancelling",
    "CANCELLED": "cancelled",
}
"""Mistral's job statuses → OpenAI's batch statuses (OpenAI's ``finalizing`` has no Mistral state)."""

ENDED_AT: Final[dict[str, str]] = {
    "SUCCESS": "completed_at",
    "FAILED": "failed_at",
    "TIMEOUT_EXCEEDED": "expired_at",
    "CANCELLED": "cancelled_at",
}
"""The OpenAI timestamp Mistral's ``completed_at`` is, by how the job ended."""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def openai_batch(job: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI's ``Batch`` for Mistral's job (and the state the shim left in its metadata).

    Counts: OpenAI's ``completed`` is the requests that succeeded (Mistral's ``succeeded_requests``), and
    the lines the shim refused count as failed. Optional fields with no value are left out (OpenAI's schema
    types them without null; its SDK reads them as None).
    """
    state, metadata = read_state(job.get("metadata"))
    status = job.get("status")
    created = _int(job.get("created_at")) or 0
    window = state.completion_window or "24h"
    hours = int(window[:-1]) if window[:-1].isdigit() else 24
    inputs = job.get("input_files")
    out: dict[str, Any] = {
        "id": job.get("id"),
        "object": "batch",
        "endpoint": job.get("endpoint"),
        "input_file_id": state.input_file_id or (inputs[0] if isinstance(inputs, list) and inputs else ""),
        "completion_window": window,
        "status": STATUSES.get(status, "failed") if isinstance(status, str) else "failed",
        "created_at": created,
    }
    if isinstance(job.get("model"), str):
        out["model"] = job["model"]
    messages = [e for e in job.get("errors") or [] if isinstance(e, dict)]
    if messages:
        out["errors"] = {
            "object": "list",
            "data": [
                {"code": "job_error", "message": _counted(e), "param": None, "line": None} for e in messages
            ],
        }
    ended = status in ENDED_AT
    output = job.get("output_file")
    if ended and isinstance(output, str):
        out["output_file_id"] = FileRef("output", output).encode()
    mistral_errors = job.get("error_file") if isinstance(job.get("error_file"), str) else None
    if ended and (mistral_errors or state.refusals_file):
        out["error_file_id"] = FileRef("errors", mistral_errors, state.refusals_file).encode()
    if (started := _int(job.get("started_at"))) is not None:
        out["in_progress_at"] = started
    out["expires_at"] = created + hours * 3600
    if ended and (completed := _int(job.get("completed_at"))) is not None:
        out[ENDED_AT[str(status)]] = completed
    counted = _int(job.get("total_requests")) or 0
    # The refused lines count once Mistral counted its own (a queued job reads 0 of 0, as OpenAI's
    # validating batch does).
    refused = state.refused if counted or ended else 0
    out["request_counts"] = {
        "total": counted + refused,
        "completed": _int(job.get("succeeded_requests")) or 0,
        "failed": (_int(job.get("failed_requests")) or 0) + refused,
    }
    out["metadata"] = metadata or None
    return out


def _counted(error: Mapping[str, Any]) -> str:
    message = str(error.get("message") or "")
    count = _int(error.get("count")) or 1
    return f"{message} (x{count})" if count > 1 else message


# --- the listing --------------------------------------------------------------------------------------------

PAGE_SIZE: Final = 100
MAX_PAGES: Final = 1_000


def _list_limit(value: Any, draft: Draft, options: Options) -> Any:
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise refuse(f"limit must be an integer, not {value!r}.", "limit", "invalid_type") from None
    if not 1 <= limit <= 100:
        raise refuse(f"limit must be between 1 and 100, not {limit}.", "limit", "invalid_value")
    draft.notes["limit"] = limit
    return OMIT


def _list_after(value: Any, draft: Draft, options: Options) -> Any:
    draft.notes["after"] = value
    return OMIT


LIST_FIELDS: dict[str, Field] = {
    "after": Field(
        "convert", "Mistral has no cursor: the shim reads its pages, newest first, from that id on", STRING,
        convert=_list_after,
    ),
    "limit": Field("convert", "Mistral pages by number: the shim cuts the list (1 to 100, 20 by default)",
                   STRING, convert=_list_limit),
}  # fmt: skip
"""One row per query parameter of OpenAI's ``GET /batches``."""

LIST_TABLE = Table(
    endpoint="batches listing",
    fields=LIST_FIELDS,
    mistral_only={None: frozenset()},
    unknown_reason="it is not a batches listing parameter",
)


@dataclass
class BatchListing:
    """OpenAI's page of batches, gathered from Mistral's pages as they are read (newest first)."""

    limit: int = 20
    after: str | None = None
    found: list[dict[str, Any]] = field(default_factory=list)
    _started: bool = False

    @property
    def full(self) -> bool:
        """Whether one more batch than the page holds was found (so ``has_more`` is known)."""
        return len(self.found) > self.limit

    def add(self, jobs: Sequence[Any]) -> None:
        for job in jobs:
            if not isinstance(job, dict) or self.full:
                continue
            if self.after is not None and not self._started:
                self._started = job.get("id") == self.after
                continue
            self.found.append(openai_batch(job))

    def page(self) -> dict[str, Any]:
        data = self.found[: self.limit]
        out: dict[str, Any] = {"object": "list", "data": data, "has_more": self.full}
        if data:
            out["first_id"], out["last_id"] = data[0]["id"], data[-1]["id"]
        return out


def plan_listing(query: Mapping[str, str], options: Options) -> BatchListing:
    draft = table.apply(LIST_TABLE, query, options)
    return BatchListing(limit=draft.notes.get("limit", 20), after=draft.notes.get("after"))


def list_query(page: int) -> str:
    return f"page={page}&page_size={PAGE_SIZE}&order_by=-created"


def more_jobs(answer: Mapping[str, Any], page: int) -> bool:
    data = answer.get("data")
    got = len(data) if isinstance(data, list) else 0
    total = _int(answer.get("total"))
    seen = (page + 1) * PAGE_SIZE
    more = seen < total if total is not None else got >= PAGE_SIZE
    return more and got > 0 and page + 1 < MAX_PAGES
