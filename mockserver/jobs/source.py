"""The source that answers Mistral's files and batch-job routes from the mock's own state.

It answers the requests the contract ``Routed`` (``mockserver.validation``): each route's parameters arrive
parsed, so a handler here only does the work. Disk work runs in a thread. Bodies are written as Mistral's
files and batch services write theirs (``render.service_json``); a download is the file's bytes, streamed
from disk as ``application/octet-stream`` (the only answer Mistral's SDK accepts for it).
"""

import functools
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mistral_wire.contract.batch import (
    BatchJobPath,
    CreateBatchJobRequest,
    GetBatchJobQuery,
    ListBatchJobsQuery,
)
from mistral_wire.contract.errors import MistralError, not_found
from mistral_wire.contract.files import FilePath, ListFilesQuery, SignedUrlQuery, UploadFileForm
from mockserver import render
from mockserver.jobs.batch import BatchJob, BatchJobs
from mockserver.jobs.files import FileStore
from mockserver.jobs.threads import in_thread
from mockserver.keys import FILES, JOBS
from mockserver.sources import Call
from mockserver.validation import Refused, Routed

SIGNED_PREFIX = "/signed/files/"
"""Where a signed URL points: a download that needs no key, only the URL's own signature."""
FILE_NOT_FOUND = "File not found"
JOB_NOT_FOUND = "Batch job not found"

Handler = Callable[["JobsSource", Call, Routed], Awaitable[web.StreamResponse]]


def sign(store: FileStore, file_id: str, expires: int) -> str:
    return hmac.new(store.secret, f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()


class JobsSource:
    """Files and batch jobs; every other request goes on to the next source."""

    async def answer(self, call: Call) -> web.StreamResponse | None:
        verdict = call.verdict
        if isinstance(verdict, Refused):
            return call.refuse(verdict.refusal) if self._serves(call) else None
        if not isinstance(verdict, Routed):
            return None
        handler = HANDLERS.get(verdict.route)
        return None if handler is None else await handler(self, call, verdict)

    @staticmethod
    def _serves(call: Call) -> bool:
        return call.path.startswith(("/v1/files", "/v1/batch/"))

    @staticmethod
    def files(call: Call) -> FileStore:
        return call.request.app[FILES]

    def headers(self, call: Call) -> dict[str, str]:
        return {**call.tagged("synthetic"), **call.limiter.headers(call.key)}

    # --- files --------------------------------------------------------------------------------------------

    async def upload(self, call: Call, verdict: Routed) -> web.StreamResponse:
        form = verdict.body
        assert isinstance(form, UploadFileForm) and call.form is not None
        upload = call.form.upload(form.file)
        stored = await in_thread(functools.partial(self.files(call).add_upload, upload, form))
        return render.service_json(stored.render(), self.headers(call))

    async def list_files(self, call: Call, verdict: Routed) -> web.StreamResponse:
        query = verdict.query
        assert isinstance(query, ListFilesQuery)
        page, total = self.files(call).listing(query)
        body: dict[str, Any] = {
            "data": [stored.render() for stored in page],
            "object": "list",
            "total": total if query.include_total else None,
        }
        return render.service_json(body, self.headers(call))

    def _stored(self, call: Call, verdict: Routed) -> str:
        path = verdict.path
        assert isinstance(path, FilePath)
        file_id = str(path.file_id)
        if self.files(call).get(file_id) is None:
            raise not_found(FILE_NOT_FOUND)
        return file_id

    async def retrieve(self, call: Call, verdict: Routed) -> web.StreamResponse:
        stored = self.files(call).get(self._stored(call, verdict))
        assert stored is not None
        return render.service_json(stored.retrieved(), self.headers(call))

    async def delete(self, call: Call, verdict: Routed) -> web.StreamResponse:
        file_id = self._stored(call, verdict)
        await in_thread(functools.partial(self.files(call).delete, file_id))
        return render.service_json({"id": file_id, "object": "file", "deleted": True}, self.headers(call))

    async def content(self, call: Call, verdict: Routed) -> web.StreamResponse:
        file_id = self._stored(call, verdict)
        return download(self.files(call), file_id, self.headers(call))

    async def signed_url(self, call: Call, verdict: Routed) -> web.StreamResponse:
        file_id = self._stored(call, verdict)
        query = verdict.query
        assert isinstance(query, SignedUrlQuery)
        expires = int(time.time()) + query.expiry * 3600
        signature = sign(self.files(call), file_id, expires)
        origin = str(call.request.url.origin())
        url = f"{origin}{SIGNED_PREFIX}{file_id}?expires={expires}&signature={signature}"
        return render.service_json({"url": url}, self.headers(call))

    # --- batch jobs -----------------------------------------------------------------------------------------

    @staticmethod
    def jobs(call: Call) -> BatchJobs:
        return call.request.app[JOBS]

    async def create_job(self, call: Call, verdict: Routed) -> web.StreamResponse:
        request = verdict.body
        assert isinstance(request, CreateBatchJobRequest)
        files = self.files(call)
        for file_id in request.input_files or []:
            if files.get(str(file_id)) is None:
                raise not_found(FILE_NOT_FOUND)
        jobs = self.jobs(call)
        job = await in_thread(functools.partial(jobs.create, request, call.fault.batch))
        jobs.start(job)
        return render.service_json(job.render(), self.headers(call))

    async def list_jobs(self, call: Call, verdict: Routed) -> web.StreamResponse:
        query = verdict.query
        assert isinstance(query, ListBatchJobsQuery)
        page, total = self.jobs(call).listing(query)
        body = {"data": [job.render() for job in page], "object": "list", "total": total}
        return render.service_json(body, self.headers(call))

    def _job(self, call: Call, verdict: Routed) -> BatchJob:
        path = verdict.path
        assert isinstance(path, BatchJobPath)
        job = self.jobs(call).get(str(path.job_id))
        if job is None:
            raise not_found(JOB_NOT_FOUND)
        return job

    async def get_job(self, call: Call, verdict: Routed) -> web.StreamResponse:
        job = self._job(call, verdict)
        query = verdict.query
        assert isinstance(query, GetBatchJobQuery)
        outputs = None
        if job.done and (job.inline or query.inline):
            # Filled for a job of inline requests even unasked (live, 2026-08), and for any job with
            # ``inline=true``.
            outputs = await in_thread(functools.partial(self.jobs(call).outputs, job))
        return render.service_json(job.render(outputs), self.headers(call))

    async def cancel_job(self, call: Call, verdict: Routed) -> web.StreamResponse:
        job = self._job(call, verdict)
        self.jobs(call).cancel(job)
        return render.service_json(job.render(), self.headers(call))

    async def delete_job(self, call: Call, verdict: Routed) -> web.StreamResponse:
        job = self._job(call, verdict)
        self.jobs(call).delete(job.id)
        return render.service_json({"id": job.id, "object": "batch", "deleted": True}, self.headers(call))


def download(store: FileStore, file_id: str, headers: dict[str, str]) -> web.StreamResponse:
    """The file's bytes, streamed from disk (``sendfile`` where the OS has it): memory stays flat."""
    response = web.FileResponse(store.path(file_id), headers={**headers, "Content-Type": render.OCTET_STREAM})
    return response


async def signed_download(request: web.Request) -> web.StreamResponse:
    """``GET /signed/files/{id}?expires=&signature=``: what a signed URL points at, no key needed."""
    store = request.app[FILES]
    file_id = request.match_info["file_id"]
    try:
        expires = int(request.query.get("expires", ""))
    except ValueError:
        expires = 0
    expected = sign(store, file_id, expires)
    if not hmac.compare_digest(expected, request.query.get("signature", "")) or expires < time.time():
        raise MistralError(403, {"detail": "The signed URL is invalid or has expired"})
    if store.get(file_id) is None:
        raise not_found(FILE_NOT_FOUND)
    return download(store, file_id, {})


HANDLERS: dict[str, Handler] = {
    "POST /v1/files": JobsSource.upload,
    "GET /v1/files": JobsSource.list_files,
    "GET /v1/files/{file_id}": JobsSource.retrieve,
    "DELETE /v1/files/{file_id}": JobsSource.delete,
    "GET /v1/files/{file_id}/content": JobsSource.content,
    "GET /v1/files/{file_id}/url": JobsSource.signed_url,
    "POST /v1/batch/jobs": JobsSource.create_job,
    "GET /v1/batch/jobs": JobsSource.list_jobs,
    "GET /v1/batch/jobs/{job_id}": JobsSource.get_job,
    "POST /v1/batch/jobs/{job_id}/cancel": JobsSource.cancel_job,
    "DELETE /v1/batch/jobs/{job_id}": JobsSource.delete_job,
}
