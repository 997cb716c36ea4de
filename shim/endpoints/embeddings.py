"""``POST /v1/embeddings``: floats from Mistral, re-encoded as the client asked, batches split to fit."""

import asyncio
import time

from aiohttp import web

from shim.endpoints import common
from shim.translate import embeddings as translate
from shim.upstream import error_from

PATH = "/v1/embeddings"


async def embeddings(request: web.Request) -> web.Response:
    entry = common.ledger(request)
    body = await common.read_json(request)
    plan = translate.translate_embedding_request(body, common.options(request))
    common.note(request, body, plan.dropped)
    started = time.monotonic()
    upstream = common.upstream(request)
    last_headers: dict[str, str] = {}

    async def one(part: dict) -> dict:
        async with upstream.request(
            "POST",
            PATH,
            client_bearer=entry.client_bearer,
            body=common.dumps(part),
            headers={"Content-Type": "application/json"},
        ) as (response, _):
            entry.upstream_status = response.status
            last_headers.update(response.headers)
            if response.status != 200:
                raise await error_from(response)
            return await common.read_upstream_json(response)

    answers = await asyncio.gather(*(one(part) for part in plan.bodies))
    entry.upstream_seconds += time.monotonic() - started
    return common.json_response(
        request, translate.merge_embedding_responses(plan, list(answers)), last_headers
    )
