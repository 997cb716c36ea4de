"""The periodic purge the app runs: at once on start, then at every tick, surviving a failing store."""

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shim.store import ResponseStore
from shim.store.purging import purging
from shim.store.sqlite import SqliteStore
from testkit.stored import make_record


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def purged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("purged")]


async def test_purges_at_start_and_every_tick(store: ResponseStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="shim.store")
    owner = await store.owner_of("key")
    await store.put(make_record(owner, "resp_old", created=time.time() - 100, ttl=10))
    await store.put(make_record(owner, "resp_soon", ttl=0.5))
    await store.put(make_record(owner, "resp_live"))

    async with purging(store, every=0.25) as task:
        await until(lambda: purged(caplog) == ["purged 1 expired Responses"])
        await until(lambda: len(purged(caplog)) == 2)
    assert task.cancelled()
    assert purged(caplog) == ["purged 1 expired Responses"] * 2
    assert await store.get(owner, "resp_live") is not None
    assert await store.purge(time.time()) == 0


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_a_failed_purge_is_logged_and_tried_again(
    store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A store that cannot purge yet (here: not started, as a database briefly away): the error is logged,
    the loop goes on, and the next tick purges once the store works."""
    caplog.set_level(logging.INFO, logger="shim.store")
    store = SqliteStore(store_url)
    async with purging(store, every=0.05):
        await until(lambda: any(r.levelno == logging.ERROR for r in caplog.records))
        await store.start()
        owner = await store.owner_of("key")
        await store.put(make_record(owner, "resp_old", created=time.time() - 100, ttl=10))
        await until(lambda: purged(caplog) == ["purged 1 expired Responses"])
    await store.close()
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "trying again in 0.05 s" in failures[0].getMessage()
    assert failures[0].exc_info is not None
