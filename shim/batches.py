"""``/v1/batches``: OpenAI's batches on Mistral's batch jobs (the translation is ``shim.translate.batch``).

Creating a batch is four calls, and none holds a file: the OpenAI input file streams down from Mistral
while its translation streams up as the job's input file; when the shim refused lines, a second pass
writes their error lines to a file of their own (so a later download can serve them, with no state in the
shim); then the job is created, with what the shim must remember in its metadata. Retrieval, listing and
cancellation are one call each (several pages for a listing), their answers translated.
"""

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from mistral_wire import jsonio
from mistral_wire.http import segment
from shim import answers, body, pipeline
from shim.exchange import Exchange
from shim.forms import MistralForm
from shim.keys import CREDENTIAL, SETTINGS, UPSTREAM
from shim.translate import batch, errors
from shim.translate import files as file_translation
from shim.translate.batch import InputTranslation, ShimState
from shim.translate.problem import OpenAIError, server_error
from shim.upstream import UpstreamFailure, error_body


def _not_found(batch_id: str) -> OpenAIError:
    return OpenAIError(404, f"No batch found with id '{batch_id}'.", param="batch_id", code="batch_not_found")


def _job_path(request: web.Request, suffix: str = "") -> str:
    batch_id = request.match_info["batch_id"]
    if not file_translation.UUID.fullmatch(batch_id):
        raise _not_found(batch_id)
    return f"{batch.PATH}/{segment(batch_id)}{suffix}"


async def _json(request: web.Request) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    limits = body.Limits(
        settings.max_body_bytes, settings.max_body_mb, settings.client_timeout, settings.max_json_depth
    )
    raw = await body.read(request, limits)
    return body.parse_object(raw, request.headers.get("Content-Type"), settings.max_json_depth)


def _job(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise server_error(502, "Mistral answered a batch job that is not an object.", "upstream_bad_body")
    return data


# --- creation -----------------------------------------------------------------------------------------------


async def create(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """``POST /v1/batches``: the input translated into the job's input file, then the job created."""
    options = request.app[SETTINGS].options
    plan = batch.plan_create(await _json(request), options)
    exchange.dropped = plan.dropped
    ref = file_translation.decode(plan.input_file_id)
    if ref is None or ref.kind != "file" or ref.mistral is None:
        raise file_translation.not_found(plan.input_file_id)
    source = ref.mistral
    first = InputTranslation(plan.endpoint, options, file_id=source)
    uploaded = await _upload_translation(
        request, exchange, source, f"openai-batch-{source}.jsonl", first, keep="mistral"
    )
    if first.accepted == 0:
        await _delete_quietly(request, exchange, uploaded)
        if first.lines == 0:
            raise OpenAIError(
                400, "The input file has no request lines.", param="input_file_id", code="empty_file"
            )
        raise OpenAIError(
            400,
            "Every line of the input file was refused, so no batch was made; the first: "
            f"{first.first_refusal}",
            param="input_file_id",
            code="invalid_batch_lines",
        )
    refusals = None
    if first.refused:
        second = InputTranslation(plan.endpoint, options, file_id=source)
        refusals = await _upload_translation(
            request, exchange, source, f"openai-batch-{source}.refused.jsonl", second, keep="errors"
        )
    state = ShimState(plan.input_file_id, plan.completion_window, first.refused, refusals)
    job_body = batch.job_request(plan, uploaded, first.model, state)
    data, headers = await pipeline.call_json(
        request, exchange, "POST", batch.PATH, body=jsonio.dumps(job_body)
    )
    exchange.model = first.model
    return answers.json_response(batch.openai_batch(_job(data)), headers)


async def _upload_translation(
    request: web.Request,
    exchange: Exchange,
    source: str,
    filename: str,
    translation: InputTranslation,
    keep: str,
) -> str:
    """Stream Mistral's copy of the OpenAI input file through ``translation`` into a new Mistral file
    (``purpose`` batch): its Mistral lines (``keep="mistral"``) or the refused lines' error lines
    (``keep="errors"``). The new file's id."""
    upstream = request.app[UPSTREAM]
    form = MistralForm()
    path = f"{file_translation.PATH}/{segment(source)}/content"
    async with upstream.request(
        "GET",
        path,
        client_bearer=request[CREDENTIAL],
        headers={"Accept": "application/octet-stream", **pipeline.forwarded(request)},
    ) as (download, waited):
        exchange.upstream_seconds += waited
        if download.status != 200:
            refusal = errors.from_mistral(download.status, await error_body(download), download.headers)
            if refusal.status == 404:
                refusal.param = "input_file_id"
            raise refusal
        pick = _picker(translation, keep)

        async def lines() -> AsyncIterator[bytes]:
            yield form.file_head("file", filename, "application/jsonl")
            splitter = batch.LineSplitter()
            async for chunk in upstream.chunks(download):
                out = b"".join(pick(line) for line in splitter.feed(chunk))
                if out:
                    yield out
            tail = b"".join(pick(line) for line in splitter.close())
            if tail:
                yield tail
            yield b"\r\n" + form.field("purpose", "batch") + form.end()

        data, _ = await pipeline.call_json(
            request, exchange, "POST", file_translation.PATH, body=lines(), content_type=form.content_type
        )
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise server_error(502, "Mistral answered an upload without a file id.", "upstream_bad_body")
    return str(data["id"])


def _picker(translation: InputTranslation, keep: str) -> Callable[[bytes], bytes]:
    def mistral(line: bytes) -> bytes:
        return translation.mistral_line(line) or b""

    def refused(line: bytes) -> bytes:
        translation.mistral_line(line)
        return translation.error_line() or b""

    return mistral if keep == "mistral" else refused


async def _delete_quietly(request: web.Request, exchange: Exchange, file_id: str) -> None:
    """Remove a translated input no job will read (a failure to do so changes nothing for the client)."""
    with contextlib.suppress(OpenAIError, UpstreamFailure):
        await pipeline.call_json(request, exchange, "DELETE", f"{file_translation.PATH}/{segment(file_id)}")


# --- retrieval, cancellation, listing -----------------------------------------------------------------------


async def retrieve(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    data, headers = await pipeline.call_json(request, exchange, "GET", _job_path(request))
    return answers.json_response(batch.openai_batch(_job(data)), headers)


async def cancel(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    data, headers = await pipeline.call_json(request, exchange, "POST", _job_path(request, "/cancel"))
    return answers.json_response(batch.openai_batch(_job(data)), headers)


async def listing(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """``GET /v1/batches``: Mistral's jobs newest first, read page by page until OpenAI's page is full."""
    page_plan = batch.plan_listing(dict(request.query), request.app[SETTINGS].options)
    headers: Any = {}
    page = 0
    while not page_plan.full:
        data, headers = await pipeline.call_json(
            request, exchange, "GET", batch.PATH, query=batch.list_query(page)
        )
        if not isinstance(data, dict):
            raise server_error(
                502, "Mistral answered a job listing that is not an object.", "upstream_bad_body"
            )
        page_plan.add(data.get("data") or [])
        if not batch.more_jobs(data, page):
            break
        page += 1
    return answers.json_response(page_plan.page(), headers)
