"""Mistral's batch jobs, run by the mock in the background with the live API's visible states.

A job is created QUEUED with no request counted yet (as live: ``total_requests`` is 0 until it runs). One
step later (``--job-step-ms``) it is RUNNING with its total known and ``started_at`` set, then each step
answers a fifth of its lines (``lines.LineEngine``, in a worker thread), so the counts move as lines
complete. When every line has an answer the job's output file (the answered lines) and error file (the
refused ones) are stored as Mistral's files (``purpose`` batch, ``sample_type`` batch_result and
batch_error, ``source`` mistral) and the job ends SUCCESS, with ``completed_at``.

Other endings: a cancel asks for CANCELLATION_REQUESTED, and the next step ends the job CANCELLED with the
lines answered so far; a job none of whose lines is a request (an empty file, no line of JSON) is FAILED,
with its ``errors``; and a test can ask for FAILED or TIMEOUT_EXCEEDED with ``x-mock-fault: batch=failed``
or ``batch=timeout`` on the create request (a timed-out job keeps the half of its lines it answered).

An output line is the live API's (ruby_llm, 2026-08): ``{"id": "batch-<job[:8]>-<file[:8]>-<n>",
"custom_id", "response": {"status_code", "body"}, "error": null}``, ``n`` the line's byte offset in its
input file; a refused line has the same shape with Mistral's status and refusal body. Input lines are read
one at a time: a job's memory does not grow with its files.
"""

import asyncio
import contextlib
import functools
import json
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mistral_wire.contract.batch import (
    TERMINAL,
    BatchRequest,
    CreateBatchJobRequest,
    ListBatchJobsQuery,
)
from mistral_wire.contract.errors import envelope
from mockserver.jobs.files import FileStore, resource_id
from mockserver.jobs.lines import LineAnswer, LineEngine
from mockserver.jobs.threads import in_thread

log = logging.getLogger("mockserver.jobs")
STEPS = 5
"""A running job answers its lines in this many steps."""
LINE_NOT_JSON = "Invalid line: not a JSON object with a body"


@dataclass
class BatchJob:
    id: str
    input_files: list[str]
    metadata: dict[str, str] | None
    endpoint: str
    model: str | None
    agent_id: str | None
    created_at: int
    inline: bool = False
    fault: str | None = None
    status: str = "QUEUED"
    output_file: str | None = None
    error_file: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    total_requests: int = 0
    completed_requests: int = 0
    succeeded_requests: int = 0
    failed_requests: int = 0
    started_at: int | None = None
    completed_at: int | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def render(self, outputs: list[Any] | None = None) -> dict[str, Any]:
        """The live API's job object, in its key order."""
        return {
            "id": self.id,
            "object": "batch",
            "input_files": self.input_files,
            "metadata": self.metadata,
            "endpoint": self.endpoint,
            "model": self.model,
            "agent_id": self.agent_id,
            "output_file": self.output_file,
            "error_file": self.error_file,
            "errors": [dict(error) for error in self.errors],
            "outputs": outputs,
            "status": self.status,
            "created_at": self.created_at,
            "total_requests": self.total_requests,
            "completed_requests": self.completed_requests,
            "succeeded_requests": self.succeeded_requests,
            "failed_requests": self.failed_requests,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
        }

    def note_error(self, message: str) -> None:
        for error in self.errors:
            if error["message"] == message:
                error["count"] += 1
                return
        self.errors.append({"message": message, "count": 1})


def _dumps(value: Any) -> str:
    """JSON as Mistral's batch service writes it (Python's defaults)."""
    return json.dumps(value)


@dataclass
class _Line:
    file_id: str
    offset: int
    raw: bytes


def _lines(files: FileStore, file_ids: list[str]) -> Iterator[_Line]:
    """Every non-blank line of the input files, with its byte offset, read one at a time."""
    for file_id in file_ids:
        offset = 0
        with open(files.path(file_id), "rb") as handle:
            for raw in handle:
                if raw.strip():
                    yield _Line(file_id, offset, raw)
                offset += len(raw)


def _count(files: FileStore, file_ids: list[str]) -> int:
    return sum(1 for _ in _lines(files, file_ids))


class _Results:
    """The output and error files of a running job, written line by line in the spool folder."""

    def __init__(self, spool: Path, job_id: str) -> None:
        spool.mkdir(parents=True, exist_ok=True)
        self.paths = {"out": spool / f"{job_id}.out", "err": spool / f"{job_id}.err"}
        # Open for the job's whole run, closed by ``close``.
        self.handles: dict[str, IO[str]] = {
            kind: open(path, "w", encoding="utf-8")  # noqa: SIM115
            for kind, path in self.paths.items()
        }
        self.written = {"out": 0, "err": 0}

    def add(self, kind: str, line: dict[str, Any]) -> None:
        self.handles[kind].write(_dumps(line) + "\n")
        self.written[kind] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()

    def discard(self) -> None:
        self.close()
        for path in self.paths.values():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


class BatchJobs:
    """The jobs of one mock, and their runners."""

    def __init__(self, files: FileStore, engine: LineEngine, step_ms: int) -> None:
        self.files = files
        self.engine = engine
        self.step = step_ms / 1000
        self._jobs: dict[str, BatchJob] = {}
        self._seen: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- the routes' work ---------------------------------------------------------------------------------

    def create(self, request: CreateBatchJobRequest, fault: str | None) -> BatchJob:
        """A new QUEUED job (inline requests stored as its input file first). Runs in a worker thread."""
        canonical = request.model_dump_json()
        count = self._seen.get(canonical, 0)
        self._seen[canonical] = count + 1
        job_id = resource_id("batch", canonical, count)
        input_files = [str(file_id) for file_id in request.input_files or []]
        if request.requests:
            stored = self.files.create(
                f"batch-{job_id}-requests.jsonl",
                "batch",
                "batch_request",
                "mistral",
                lambda handle: _write_requests(handle, request.requests or []),
            )
            input_files.append(stored.id)
        job = BatchJob(
            id=job_id,
            input_files=input_files,
            metadata=request.metadata,
            endpoint=request.endpoint,
            model=request.model,
            agent_id=request.agent_id,
            created_at=int(time.time()),
            inline=bool(request.requests),
            fault=fault,
        )
        self._jobs[job.id] = job
        return job

    def start(self, job: BatchJob) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def get(self, job_id: str) -> BatchJob | None:
        return self._jobs.get(job_id)

    def delete(self, job_id: str) -> bool:
        return self._jobs.pop(job_id, None) is not None

    def cancel(self, job: BatchJob) -> None:
        if not job.done:
            job.status = "CANCELLATION_REQUESTED"

    def listing(self, query: ListBatchJobsQuery) -> tuple[list[BatchJob], int]:
        jobs = [job for job in self._jobs.values() if _selected(job, query)]
        jobs.sort(key=lambda job: job.created_at, reverse=query.order_by == "-created")
        start = max(query.page, 0) * max(query.page_size, 0)
        return jobs[start : start + max(query.page_size, 0)], len(jobs)

    def outputs(self, job: BatchJob) -> list[Any]:
        """Every answered line of a finished job (``outputs``), output file first. In a worker thread."""
        found: list[Any] = []
        for file_id in (job.output_file, job.error_file):
            if file_id is None or self.files.get(file_id) is None:
                continue
            with open(self.files.path(file_id), encoding="utf-8") as handle:
                found.extend(json.loads(line) for line in handle if line.strip())
        return found

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    # --- the runner ---------------------------------------------------------------------------------------

    async def _run(self, job: BatchJob) -> None:
        results: _Results | None = None
        try:
            results = await self._steps(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("batch job %s failed in the mock", job.id)
            job.note_error("The mock failed to run this job (see its log)")
            self._finish(job, "FAILED")
        finally:
            if results is not None:
                await in_thread(results.discard)

    async def _steps(self, job: BatchJob) -> _Results | None:
        await asyncio.sleep(self.step)
        if job.status == "CANCELLATION_REQUESTED":
            self._finish(job, "CANCELLED")
            return None
        total = await in_thread(lambda: _count(self.files, job.input_files))
        job.status, job.started_at, job.total_requests = "RUNNING", int(time.time()), total
        if job.fault == "failed" or total == 0:
            await asyncio.sleep(self.step)
            job.note_error("The mock failed this job on request" if total else "The input files hold no line")
            self._finish(job, "FAILED")
            return None
        results = await in_thread(lambda: _Results(self.files.spool, job.id))
        lines = _lines(self.files, job.input_files)
        per_step = max(1, math.ceil(total / STEPS))
        ending = "SUCCESS"
        while job.completed_requests < total:
            await asyncio.sleep(self.step)
            if job.status == "CANCELLATION_REQUESTED":
                ending = "CANCELLED"
                break
            if job.fault == "timeout" and job.completed_requests >= total // 2:
                ending = "TIMEOUT_EXCEEDED"
                break
            answered = await in_thread(lambda: self._answer(job, lines, per_step, results))
            if not answered:
                break
        await in_thread(results.close)
        if ending == "SUCCESS" and _malformed(job) == total:
            ending = "FAILED"  # no line was a request at all
        await in_thread(lambda: self._store_results(job, results))
        self._finish(job, ending)
        return results

    def _answer(self, job: BatchJob, lines: Iterator[_Line], count: int, results: _Results) -> int:
        """Answer up to ``count`` lines (in a worker thread); how many were answered."""
        answered = 0
        for line in lines:
            custom_id, answer = self._line(job, line)
            entry = {
                "id": f"batch-{job.id[:8]}-{line.file_id[:8]}-{line.offset}",
                "custom_id": custom_id,
                "response": {"status_code": answer.status, "body": answer.body},
                "error": None,
            }
            results.add("out" if answer.ok else "err", entry)
            job.completed_requests += 1
            if answer.ok:
                job.succeeded_requests += 1
            else:
                job.failed_requests += 1
            answered += 1
            if answered >= count:
                break
        return answered

    def _line(self, job: BatchJob, line: _Line) -> tuple[str | None, LineAnswer]:
        try:
            parsed = json.loads(line.raw)
            request = BatchRequest.model_validate(parsed)
        except ValueError:
            job.note_error(LINE_NOT_JSON)
            custom_id = None
            return custom_id, LineAnswer(400, envelope(LINE_NOT_JSON, "invalid_request_error"))
        body = dict(request.body)
        if job.model is not None:
            body["model"] = job.model
        return request.custom_id, self.engine.answer(job.endpoint, body)

    def _store_results(self, job: BatchJob, results: _Results) -> None:
        for kind, sample_type in (("out", "batch_result"), ("err", "batch_error")):
            if not results.written[kind]:
                continue
            path = results.paths[kind]
            stored = self.files.create(
                f"batch-{job.id}-{'output' if kind == 'out' else 'error'}.jsonl",
                "batch",
                sample_type,
                "mistral",
                functools.partial(_copy, path),
            )
            if kind == "out":
                job.output_file = stored.id
            else:
                job.error_file = stored.id

    @staticmethod
    def _finish(job: BatchJob, status: str) -> None:
        job.status = status
        job.completed_at = int(time.time())
        if job.started_at is None:
            job.started_at = job.completed_at


def _malformed(job: BatchJob) -> int:
    return sum(error["count"] for error in job.errors if error["message"] == LINE_NOT_JSON)


def _selected(job: BatchJob, query: ListBatchJobsQuery) -> bool:
    return (
        (query.model is None or job.model == query.model)
        and (query.agent_id is None or job.agent_id == query.agent_id)
        and (not query.status or job.status in query.status)
        and (query.created_after is None or job.created_at > query.created_after.timestamp())
    )


def _write_requests(handle: IO[bytes], requests: list[BatchRequest]) -> None:
    for request in requests:
        line = {"custom_id": request.custom_id, "body": request.body}
        handle.write((_dumps(line) + "\n").encode())


def _copy(path: Path, handle: IO[bytes]) -> None:
    """The spooled results into their file (``FileStore.create`` hashes and counts what is written)."""
    with open(path, "rb") as source:
        while chunk := source.read(1024 * 1024):
            handle.write(chunk)
