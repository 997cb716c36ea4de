"""Fixtures of the shim's tests: fake upstreams (``testkit.upstream.Upstream``) in their usual setups, clients
on a shim in front of them, and a guard against tracebacks."""

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from mistralai.client import Mistral
from openai import OpenAI

from testkit.auth import AUTH, CLIENT_KEY, KEY, UPSTREAM_KEY
from testkit.fake_mistral import Faked, FakeMistral
from testkit.upstream import Received, Upstream, reply
from testkit.wire import MISTRAL_ANSWER


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test if anything logged an error (a traceback, a 500) while it ran."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


# --- an upstream per test, a shim in front of it, the openai client in front of that ------------------------


@pytest.fixture
def upstream() -> Iterator[Callable[..., tuple[Upstream, str]]]:
    """Start an ``Upstream`` sending ``answer`` or forwarding to ``forward_to``; returns it and its URL.
    Stopped when the test ends."""
    started: list[Upstream] = []

    def start(answer: Any = None, forward_to: str | None = None) -> tuple[Upstream, str]:
        server = Upstream(answer=answer, forward_to=forward_to)
        started.append(server)
        return server, server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def via(
    upstream: Callable[..., tuple[Upstream, str]], start_shim: Callable[..., str]
) -> Callable[..., tuple[OpenAI, Upstream]]:
    """An openai client on a shim whose upstream is an ``Upstream`` (forwarding to the mock unless given
    an answer), for tests that assert both what the shim sent and what the client got."""

    def make(answer: Any = None, *, forward_to: str | None = None, **shim: Any) -> tuple[OpenAI, Upstream]:
        server, url = upstream(answer, forward_to)
        client = OpenAI(base_url=f"{start_shim(upstream=url, **shim)}/v1", api_key=KEY, max_retries=0)
        return client, server

    return make


@pytest.fixture
def spy(via: Callable[..., tuple[OpenAI, Upstream]], mock_url: str) -> tuple[OpenAI, Upstream]:
    """An openai client on a shim in front of the session mock, with the shim's upstream requests recorded."""
    return via(forward_to=mock_url)


@pytest.fixture
def raw(mock_url: str) -> Iterator[httpx.Client]:
    """Straight to the mock, bypassing the shim: what Mistral answers to the untranslated trigger."""
    with httpx.Client(base_url=mock_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as client:
        yield client


@pytest.fixture
def wire(shim_url: str) -> Iterator[httpx.Client]:
    """httpx on the session's shim, to read its answers off the wire (nothing parsed away)."""
    with httpx.Client(base_url=shim_url, headers=AUTH, timeout=30) as client:
        yield client


# --- scripted upstreams that answer every request the same way ----------------------------------------------


@pytest.fixture
def echo_upstream() -> Iterator[Upstream]:
    """An upstream that answers every request with a fixed Mistral chat answer (and keeps what it got)."""

    async def answer(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reply(writer, 200, json.dumps(MISTRAL_ANSWER).encode())

    with Upstream(answer) as server:
        yield server


@pytest.fixture
def canary() -> Iterator[Upstream]:
    """A server the shim must never reach, whatever a client sends."""
    with Upstream() as server:
        yield server


@pytest.fixture
def redirecting_upstream() -> Iterator[Upstream]:
    """The configured upstream: answers 200 (or, on ``/v1/redirect``, a redirect to elsewhere)."""
    location = {"to": ""}

    async def answer(received: Received, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if received.target.startswith("/v1/redirect"):
            writer.write(
                f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {location['to']}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
            return
        await reply(writer, 200, json.dumps(MISTRAL_ANSWER).encode())

    with Upstream(answer) as server:
        server.location = location  # type: ignore[attr-defined]
        yield server


# --- Mistral's own API through the shim (the pass-through) --------------------------------------------------


@pytest.fixture
def sdk(shim_url: str) -> Mistral:
    """Mistral's SDK on the session shim's pass-through."""
    return Mistral(api_key=KEY, server_url=f"{shim_url}/mistral")


@pytest.fixture
def ok_upstream() -> Iterator[Upstream]:
    """An upstream answering ``{"ok": true}`` to anything, to look at what it received."""
    with Upstream() as server:
        yield server


@pytest.fixture
def keyed_shim(ok_upstream: Upstream, start_shim: Callable[..., str]) -> str:
    """A shim in front of ``ok_upstream`` with its own key (``UPSTREAM_KEY``), for clients holding
    ``CLIENT_KEY``."""
    return start_shim(
        upstream=ok_upstream.url, mistral_api_key=UPSTREAM_KEY, client_keys=frozenset({CLIENT_KEY})
    )


# --- a scripted Mistral for files, batch jobs, moderation and audio (issue 16) ------------------------------


@pytest.fixture
def faked(start_shim: Callable[..., str]) -> Iterator[Faked]:
    """The openai client on a shim whose upstream is a ``FakeMistral`` (Mistral's shapes, scripted)."""
    mistral = FakeMistral()
    with Upstream(handler=mistral.handle) as server:
        shim = start_shim(upstream=server.url)
        with OpenAI(base_url=f"{shim}/v1", api_key=KEY, max_retries=0, timeout=30) as client:
            yield Faked(mistral, client, shim, server)
