"""Fixtures of the plugin's tests: a quiet ini for the inner pytest runs, and upstreams to record from."""

from collections.abc import Iterator

import pytest

from mockserver.app import create_app
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from testkit.auth import UPSTREAM_KEY


@pytest.fixture(autouse=True)
def quiet_ini(pytester: pytest.Pytester) -> None:
    """An ini for the inner pytest runs (each test here runs pytest inside pytest)."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


@pytest.fixture
def mock_upstream() -> Iterator[str]:
    """A synthetic mock of its own, for the pytest plugin to record from (any key accepted)."""
    with ServerThread(lambda: create_app(MockSettings())) as url:
        yield url


@pytest.fixture
def keyed_upstream() -> Iterator[str]:
    """A synthetic mock that, like Mistral, accepts only its key (``UPSTREAM_KEY``)."""
    with ServerThread(lambda: create_app(MockSettings(api_keys=frozenset({UPSTREAM_KEY})))) as url:
        yield url


@pytest.fixture(autouse=True)
def no_key_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner runs see this process's environment: a developer's key or base URL must not leak in."""
    for name in ("MISTRAL_API_KEY", "MISTRAL_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
