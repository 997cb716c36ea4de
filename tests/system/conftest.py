"""Fixtures of the tests that run both servers: httpx on the session's mock and on the shim in front of it."""

from collections.abc import Iterator

import httpx2 as httpx
import pytest

from testkit.auth import AUTH


@pytest.fixture(scope="module")
def mock(mock_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_url, headers=AUTH, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def shim(shim_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shim_url, headers=AUTH, timeout=60) as client:
        yield client
