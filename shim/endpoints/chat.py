"""``POST /v1/chat/completions``: OpenAI in, Mistral upstream, OpenAI out (JSON or SSE)."""

from aiohttp import web

from shim.endpoints import common
from shim.translate import fieldtypes, params, responses
from shim.translate.stream import StreamTranslator

PATH = "/v1/chat/completions"


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await common.read_json(request)
    fieldtypes.check(body, fieldtypes.CHAT)
    translated = params.translate_chat_request(body, common.options(request))
    common.note(request, body, translated.dropped, translated.repairs)
    context = translated.context
    return await common.exchange(
        request,
        PATH,
        translated.body,
        lambda data: responses.translate_chat_response(data, context),
        lambda: StreamTranslator(context),
    )
