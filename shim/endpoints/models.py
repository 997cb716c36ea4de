"""``GET /v1/models`` and ``GET /v1/models/{id}``: Mistral's catalogue in OpenAI's shape, aliases included."""

from aiohttp import web

from shim.endpoints import common
from shim.state import CONFIG
from shim.translate import models as translate
from shim.upstream import segment


async def list_models(request: web.Request) -> web.Response:
    body, headers = await common.fetch_json(request, "GET", "/v1/models")
    aliases = request.app[CONFIG].aliases
    return common.json_response(translate.translate_model_list(body, aliases), headers)


async def retrieve_model(request: web.Request) -> web.Response:
    requested = request.match_info["model_id"]
    common.ledger(request).model = requested
    target = translate.resolve_model(requested, request.app[CONFIG].aliases)
    body, headers = await common.fetch_json(request, "GET", f"/v1/models/{segment(target)}")
    return common.json_response(translate.translate_model(body, requested), headers)
