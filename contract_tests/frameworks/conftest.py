"""Fixtures of the framework tests: offline settings before any import, the network guard, HTTP clients.

The settings are applied when this file is imported, that is before pytest imports a framework module, so
LiteLLM never downloads its price map and LangChain never traces. Every test then runs inside the
loopback-only guard (``pytestmark = pytest.mark.usefixtures("offline")``; not on live targets, where the
in-process shim itself must reach api.mistral.ai): a framework that tries to reach the network fails the
test, even if it swallowed the refusal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2 as httpx
import pytest

from contract_tests.frameworks.offline import apply_settings, import_offline, loopback_only
from contract_tests.frameworks.support import EXTRA, Wire
from contract_tests.oracle import Oracle
from contract_tests.targets import Target

apply_settings()

TIMEOUT = 60.0


@pytest.fixture
def offline(target: Target) -> Iterator[None]:
    """No framework may reach beyond loopback during an offline test."""
    if target.live:
        yield
        return
    with loopback_only() as attempts:
        yield
    if attempts:
        pytest.fail("the framework tried to reach the network: " + "; ".join(attempts), pytrace=False)


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def http(oracle: Oracle, wire: Wire) -> Iterator[httpx.Client]:
    """A sync HTTP client whose answers the spec oracle judges, for frameworks that take one."""
    hooks = {"response": [wire.record]}
    with httpx.Client(transport=oracle.transport(), timeout=TIMEOUT, event_hooks=hooks) as made:
        yield made


@pytest.fixture
async def ahttp(oracle: Oracle, wire: Wire) -> AsyncIterator[httpx.AsyncClient]:
    """The async twin of ``http``."""
    hooks = {"response": [wire.arecord]}
    async with httpx.AsyncClient(
        transport=oracle.async_transport(), timeout=TIMEOUT, event_hooks=hooks
    ) as made:
        yield made


# --- LiteLLM's HTTP clients (test_litellm.py) ---------------------------------------------------------------


def _litellm() -> Any:
    """LiteLLM, imported under the guard (test_litellm.py skips without it, so its fixtures never run)."""
    return import_offline("litellm", EXTRA)


@pytest.fixture
def litellm_sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No cached client from another test (LiteLLM caches SDK clients by key and base URL); no banners."""
    litellm = _litellm()
    monkeypatch.setattr(litellm, "suppress_debug_info", True)
    litellm.in_memory_llm_clients_cache.flush_cache()
    yield
    litellm.in_memory_llm_clients_cache.flush_cache()


@pytest.fixture
def sync_session(http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> httpx.Client:
    """``http`` as LiteLLM's ``client_session``."""
    litellm = _litellm()
    monkeypatch.setattr(litellm, "client_session", http)
    return http


@pytest.fixture
async def async_session(ahttp: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """``ahttp`` as LiteLLM's ``aclient_session``."""
    litellm = _litellm()
    monkeypatch.setattr(litellm, "aclient_session", ahttp)
    yield ahttp
