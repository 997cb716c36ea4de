"""Expired Responses go: purged when the shim starts, then every hour, for as long as it runs.

Every read already ignores an expired response; purging frees the space. With several shims on one
PostgreSQL each purges (SKIP LOCKED lets them share the work); a failed purge (the database briefly away)
is logged and tried again at the next tick, never ending the loop.

The app runs it for its lifetime with aiohttp's ``cleanup_ctx``::

    async def purge_responses(app: web.Application) -> AsyncIterator[None]:
        async with purging(app[STORE]):
            yield

    app.cleanup_ctx.append(purge_responses)   # after the context that starts the store

``purging`` starts ``purge_periodically`` as a task on entry (its first purge runs at once, in the
background: startup does not wait for it) and cancels it on exit, before the store closes.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from shim.store import ResponseStore

log = logging.getLogger("shim.store")

HOUR = 3600.0


async def purge_periodically(store: ResponseStore, every: float = HOUR) -> None:
    """Purge now, then every ``every`` seconds, until cancelled."""
    while True:
        try:
            removed = await store.purge(time.time())
        except Exception:
            log.exception("purging expired Responses failed; trying again in %g s", every)
        else:
            if removed:
                log.info("purged %d expired Responses", removed)
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def purging(store: ResponseStore, every: float = HOUR) -> AsyncIterator[asyncio.Task[None]]:
    """``purge_periodically`` as a task for the duration of the ``async with``; cancelled and awaited at
    exit."""
    task = asyncio.create_task(purge_periodically(store, every), name="purge-responses")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
