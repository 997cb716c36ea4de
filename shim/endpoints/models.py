"""``GET /v1/models`` and ``GET /v1/models/{id}``: Mistral's catalogue in OpenAI's shape, aliases included."""

import time

from aiohttp import web

from shim.endpoints import common
from shim.state import CONFIG
from shim.translate import models as translate
from shim.upstream import error_from


async def _get(request: web.Request, path: str) -> tuple[dict, dict[str, str]]:
    entry = common.ledger(request)
    started = time.monotonic()
    async with common.upstream(request).request("GET", path, client_bearer=entry.client_bearer) as (
        response,
        _,
    ):
        entry.upstream_status = response.status
        if response.status != 200:
            raise await error_from(response)
        body = await common.read_upstream_json(response)
        entry.upstream_seconds += time.monotonic() - started
        return body, dict(response.headers)


async def list_models(request: web.Request) -> web.Response:
    body, headers = await _get(request, "/v1/models")
    aliases = request.app[CONFIG].aliases
    return common.json_response(request, translate.translate_model_list(body, aliases), headers)


async def retrieve_model(request: web.Request) -> web.Response:
    requested = request.match_info["model_id"]
    common.ledger(request).model = requested
    target = translate.resolve_model(requested, request.app[CONFIG].aliases)
    body, headers = await _get(request, f"/v1/models/{target}")
    return common.json_response(request, translate.translate_model(body, requested), headers)
