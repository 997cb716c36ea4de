"""Shared fixtures: real mock servers on loopback, in-process."""

from collections.abc import Callable, Iterator

import httpx2 as httpx
import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.serving import ServerThread

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="session")
def mock_url() -> Iterator[str]:
    """One default mock for the whole session (synthetic mode, any key accepted)."""
    with ServerThread(lambda: create_app(MockConfig())) as url:
        yield url


@pytest.fixture
def start_mock() -> Iterator[Callable[..., str]]:
    """Start a mock with custom settings; stopped when the test ends."""
    servers: list[ServerThread] = []

    def start(**settings: object) -> str:
        server = ServerThread(lambda: create_app(MockConfig(**settings)))  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def http(mock_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_url, headers=AUTH, timeout=30) as client:
        yield client


pytest_plugins = ["pytester"]
