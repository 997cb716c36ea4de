"""``POST /v1/embeddings``: floats from Mistral, re-encoded as the client asked, batches split to fit."""

import asyncio
import time
from collections.abc import Mapping

from aiohttp import web

from shim.endpoints import common
from shim.translate import embeddings as translate
from shim.translate import fieldtypes

PATH = "/v1/embeddings"


async def embeddings(request: web.Request) -> web.Response:
    body = await common.read_json(request)
    fieldtypes.check(body, fieldtypes.EMBEDDINGS)
    plan = translate.translate_embedding_request(body, common.options(request))
    common.note(request, body, plan.dropped)
    started = time.monotonic()
    try:
        # A TaskGroup, not gather(): when one part fails the others are cancelled, not left running.
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(common.fetch_json(request, "POST", PATH, p)) for p in plan.bodies]
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    answers = [task.result() for task in tasks]
    # The parts ran side by side: the time spent upstream is the wall time, not the sum.
    common.ledger(request).upstream_seconds = time.monotonic() - started
    last_headers: Mapping[str, str] = answers[-1][1] if answers else {}
    merged = translate.merge_embedding_responses(plan, [data for data, _ in answers])
    return common.json_response(merged, last_headers)
