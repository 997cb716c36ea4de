"""Mistral's batch jobs: what creating, listing and reading a job accept, and a job's statuses.

A job's lines are requests to one endpoint (``ApiEndpoint``), from JSONL files (``input_files``, each line
``{"custom_id": ..., "body": {...}}``) or inline (``requests``, at most 10,000); the job's ``model`` applies
to every line. Its status moves QUEUED, RUNNING, then one of the terminal ones; a cancel asks for
CANCELLATION_REQUESTED, which ends in CANCELLED (the spec's ``BatchJobStatus``).
"""

from datetime import datetime
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import Field

from mistral_wire.contract.base import Open, Params

ApiEndpoint = Literal[
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/fim/completions",
    "/v1/moderations",
    "/v1/chat/moderations",
    "/v1/ocr",
    "/v1/classifications",
    "/v1/chat/classifications",
    "/v1/conversations",
    "/v1/audio/transcriptions",
]
BatchJobStatus = Literal[
    "QUEUED", "RUNNING", "SUCCESS", "FAILED", "TIMEOUT_EXCEEDED", "CANCELLATION_REQUESTED", "CANCELLED"
]
TERMINAL: Final = frozenset({"SUCCESS", "FAILED", "TIMEOUT_EXCEEDED", "CANCELLED"})
MAX_INLINE_REQUESTS = 10000

ENDPOINT_CAPABILITIES: Final[dict[str, str]] = {
    "/v1/chat/completions": "completion_chat",
    "/v1/fim/completions": "completion_fim",
    "/v1/moderations": "moderation",
    "/v1/chat/moderations": "moderation",
    "/v1/ocr": "ocr",
    "/v1/classifications": "classification",
    "/v1/chat/classifications": "classification",
    "/v1/audio/transcriptions": "audio_transcription",
}
"""The capability a job's model needs for its endpoint (embeddings are checked by the model's kind)."""

MetadataKey = Annotated[str, Field(min_length=1, max_length=32)]
MetadataValue = Annotated[str, Field(min_length=1, max_length=512)]


class BatchRequest(Open):
    """One inline request: its body, without ``model`` (the job's applies)."""

    custom_id: str | None = None
    body: dict[str, Any]


class CreateBatchJobRequest(Open):
    input_files: list[UUID] | None = None
    requests: Annotated[list[BatchRequest], Field(max_length=MAX_INLINE_REQUESTS)] | None = None
    endpoint: ApiEndpoint
    model: str | None = None
    agent_id: str | None = None
    metadata: dict[MetadataKey, MetadataValue] | None = None
    timeout_hours: Annotated[int, Field(ge=1, le=168)] = 24


class ListBatchJobsQuery(Params):
    """``GET /v1/batch/jobs``. The SDK sends ``metadata={"k": "v"}`` as the bare key ``k=v``, which this
    never reads, as FastAPI never does."""

    page: int = 0
    page_size: int = 100
    model: str | None = None
    agent_id: str | None = None
    created_after: datetime | None = None
    created_by_me: bool = False
    status: list[BatchJobStatus] | None = None
    order_by: Literal["created", "-created"] = "-created"


class BatchJobPath(Params):
    job_id: UUID


class GetBatchJobQuery(Params):
    inline: bool | None = None
