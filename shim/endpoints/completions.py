"""``POST /v1/completions``: the legacy text completion, answered by Mistral's FIM or chat endpoint."""

from aiohttp import web

from shim.endpoints import common
from shim.translate import completions as translate
from shim.translate import fieldtypes


async def completions(request: web.Request) -> web.StreamResponse:
    body = await common.read_json(request)
    fieldtypes.check(body, fieldtypes.COMPLETIONS)
    plan = translate.translate_completion_request(body, common.options(request))
    common.note(request, body, plan.dropped)
    return await common.exchange(
        request,
        plan.path,
        plan.body,
        lambda data: translate.translate_completion_response(data, plan),
        lambda: translate.CompletionStreamTranslator(plan),
    )
