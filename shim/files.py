"""``/v1/files``: OpenAI's files API on Mistral's, uploads and downloads streamed through.

The translation (purposes, the file object, the listing, ids) is ``shim.translate.files``; this module
does the calls. An upload's bytes go to Mistral as the client sends them, and a download's come back as
Mistral sends them, translated line by line when the file is a batch's output or errors
(``shim.translate.batch``): the shim holds a few chunks of a file, never the file.
"""

from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from mistral_wire.http import segment
from shim import answers, pipeline
from shim.exchange import Exchange
from shim.forms import ClientForm, FormLimits, MistralForm, file_then_fields
from shim.keys import CREDENTIAL, SETTINGS, UPSTREAM
from shim.relay import ClientWriter
from shim.translate import errors, forms
from shim.translate import files as translation
from shim.translate.batch import OutputTranslation
from shim.translate.files import FileRef
from shim.translate.problem import OpenAIError, server_error
from shim.translate.table import refuse
from shim.upstream import UpstreamFailure, error_body

Transform = Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]]


def form_limits(request: web.Request) -> FormLimits:
    settings = request.app[SETTINGS]
    return FormLimits(settings.max_upload_bytes, settings.max_upload_mb, settings.client_timeout)


def _ref(request: web.Request) -> FileRef:
    file_id = request.match_info["file_id"]
    ref = translation.decode(file_id)
    if ref is None:
        raise translation.not_found(file_id)
    return ref


def _path(file_id: str, suffix: str = "") -> str:
    return f"{translation.PATH}/{segment(file_id)}{suffix}"


# --- upload -------------------------------------------------------------------------------------------------


async def upload(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """``POST /v1/files``: the form's fields translated, its file streamed to Mistral's upload."""
    options = request.app[SETTINGS].options
    form = ClientForm(request, form_limits(request))
    await form.open()
    leading = forms.fold(await form.fields())
    translation.check_upload_fields(leading, options)
    if form.file is None:
        raise refuse("you must provide a file parameter.", "file")
    mistral = MistralForm()

    def fields(folded: dict[str, Any]) -> list[tuple[str, str]]:
        draft = translation.translate_upload(forms.coerce(translation.TABLE, folded), options)
        exchange.dropped = tuple(draft.dropped)
        return [(name, str(value)) for name, value in draft.body.items()]

    body = file_then_fields(mistral, form, leading, fields)
    data, headers = await pipeline.call_json(
        request, exchange, "POST", translation.PATH, body=body, content_type=mistral.content_type
    )
    return answers.json_response(translation.openai_file(data), headers)


# --- listing, retrieval, deletion ---------------------------------------------------------------------------


async def listing(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """``GET /v1/files``: every page of Mistral's listing read, then sorted and cut as OpenAI pages."""
    plan = translation.plan_listing(dict(request.query), request.app[SETTINGS].options)
    found: list[Any] = []
    headers: Any = {}
    page = 0
    while not plan.nothing:
        data, headers = await pipeline.call_json(
            request, exchange, "GET", translation.PATH, query=translation.page_query(plan, page)
        )
        batch = data.get("data") if isinstance(data, dict) else None
        found.extend(item for item in batch or [] if isinstance(item, dict))
        if not isinstance(data, dict) or not translation.more_pages(data, page, len(found)):
            break
        page += 1
    return answers.json_response(translation.openai_list(found, plan), headers)


async def _retrieve_one(request: web.Request, exchange: Exchange, file_id: str) -> tuple[Any, Any]:
    data, headers = await pipeline.call_json(request, exchange, "GET", _path(file_id))
    if not isinstance(data, dict):
        raise server_error(502, "Mistral answered a file that is not an object.", "upstream_bad_body")
    return data, headers


async def retrieve(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """``GET /v1/files/{id}``: Mistral's file (both files of a batch's errors, as one)."""
    ref = _ref(request)
    found = [await _retrieve_one(request, exchange, file_id) for file_id in ref.mistral_ids]
    size = sum(int(data.get("bytes") or 0) for data, _ in found)
    first, headers = found[0]
    return answers.json_response(translation.openai_file(first, ref, size), headers)


async def delete(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """``DELETE /v1/files/{id}``: Mistral's file deleted (both files of a batch's errors)."""
    ref = _ref(request)
    gone = True
    headers: Any = {}
    for file_id in ref.mistral_ids:
        data, headers = await pipeline.call_json(request, exchange, "DELETE", _path(file_id))
        gone = gone and isinstance(data, dict) and data.get("deleted") is True
    return answers.json_response(translation.deleted(ref.encode(), gone), headers)


# --- content ------------------------------------------------------------------------------------------------


async def content(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """``GET /v1/files/{id}/content``: the bytes as Mistral sends them, or a batch's lines translated."""
    ref = _ref(request)
    if ref.kind == "file":
        assert ref.mistral is not None
        return await relay(request, exchange, [(ref.mistral, None)])
    return await relay(request, exchange, result_sources(ref))


def result_sources(ref: FileRef) -> list[tuple[str, Transform | None]]:
    """The Mistral files behind a batch's output or errors, and how each is served: Mistral's result lines
    translated as they stream, then the error lines of the lines the shim refused (already OpenAI's)."""
    sources: list[tuple[str, Transform | None]] = []
    if ref.mistral is not None:
        sources.append((ref.mistral, _batch_lines))
    if ref.refusals is not None:
        sources.append((ref.refusals, None))
    return sources


async def _batch_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    translation = OutputTranslation()
    async for chunk in chunks:
        if out := translation.feed(chunk):
            yield out
    if tail := translation.close():
        yield tail


async def relay(
    request: web.Request, exchange: Exchange, sources: list[tuple[str, Transform | None]]
) -> web.StreamResponse:
    """Mistral's files, one after the other, each through its transform, written as they arrive.

    Nothing is sent before the first file answers, so a missing file is OpenAI's 404. A file that fails
    half-way cuts the client's connection (no final chunk): a client never takes a truncated file for a
    whole one.
    """
    upstream = request.app[UPSTREAM]
    response: web.StreamResponse | None = None
    writer: ClientWriter | None = None
    for file_id, transform in sources:
        async with upstream.request(
            "GET",
            _path(file_id, "/content"),
            client_bearer=request[CREDENTIAL],
            headers={"Accept": "application/octet-stream", **pipeline.forwarded(request)},
        ) as (answer, waited):
            exchange.upstream_status = answer.status
            exchange.upstream_seconds += waited
            if answer.status != 200:
                raw = await error_body(answer)
                if writer is not None:  # the second file of a batch's errors is gone: the file is broken
                    _cut(request)
                    return writer.response
                raise errors.from_mistral(answer.status, raw, answer.headers)
            if writer is None:
                headers = {"Content-Type": "application/octet-stream", **exchange.headers()}
                if transform is None and len(sources) == 1 and answer.content_length is not None:
                    headers["Content-Length"] = str(answer.content_length)
                response = web.StreamResponse(headers=headers)
                writer = ClientWriter(request, response, request.app[SETTINGS].log_bodies)
                await writer.prepare()
            chunks = upstream.chunks(answer)
            try:
                async for piece in transform(chunks) if transform is not None else chunks:
                    await writer.write(piece)
            except (UpstreamFailure, OpenAIError):
                _cut(request)
                return writer.response
    assert writer is not None and response is not None
    await writer.end()
    return response


def _cut(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()
