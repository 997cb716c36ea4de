"""Fixtures of the store tests: every test runs on each engine (``memory``, ``sqlite`` in the test's
temporary directory, ``postgresql`` in a new database on the session's real server), unless it narrows
``engine`` with its own ``parametrize``."""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from shim.store import ResponseStore
from shim.store.factory import open_store

ENGINES = ("memory", "sqlite", "postgresql")

StartStore = Callable[..., Awaitable[ResponseStore]]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of an empty store of ``engine`` (one per test)."""
    if engine == "memory":
        return "memory://"
    if engine == "sqlite":
        # tmp_path is absolute: sqlite:////tmp/.../responses.sqlite3 (and the directory does not exist yet).
        return f"sqlite:///{tmp_path / 'store' / 'responses.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def start_store(store_url: str) -> AsyncIterator[StartStore]:
    """``await start_store()``: a started store on this test's URL (call it again for a second shim on the
    same store); ``start_store(factory)`` starts ``factory(url)`` instead. All closed when the test ends."""
    started: list[ResponseStore] = []

    async def start(factory: Callable[[str], ResponseStore] = open_store) -> ResponseStore:
        store = factory(store_url)
        await store.start()
        started.append(store)
        return store

    yield start
    for store in started:
        await store.close()


@pytest.fixture
async def store(start_store: StartStore) -> ResponseStore:
    return await start_store()
