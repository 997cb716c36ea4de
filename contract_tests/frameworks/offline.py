"""Keeping the frameworks off the internet: their settings, and a guard that proves they stayed on loopback.

Frameworks phone home in ways a test never asked for: LiteLLM fetches a model price map when it is imported,
LangChain traces to LangSmith when an environment variable says so, tokenizers download their vocabularies on
first use. The offline targets must pass on a machine with no network, so the settings below switch all of
that off before any framework is imported, and :func:`loopback_only` refuses, and records, every name lookup
or connection that is not for a loopback address while a framework is imported or a test runs. A test fails
on any recorded attempt, even one the framework swallowed (a telemetry thread that logs and carries on).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

SETTINGS = {
    # LiteLLM: the bundled model price map instead of one downloaded at import.
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # LangChain: no tracing to LangSmith, whatever the developer's shell says.
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    # pydantic-ai instruments through logfire when it is configured: never send.
    "LOGFIRE_SEND_TO_LOGFIRE": "false",
    "OTEL_SDK_DISABLED": "true",
    # LiteLLM imports huggingface_hub and tokenizers: no hub requests.
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}


def apply_settings() -> None:
    """Switch every framework's network side-effects off; call before importing any framework."""
    os.environ.update(SETTINGS)


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse every non-loopback name lookup and connection in this process; yield the attempts made.

    The servers of the offline targets run in threads of this process and only talk on loopback, so the
    guard can be process-wide. Unix sockets (an address that is not a tuple) are left alone.
    """
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def refused(what: str) -> OSError:
        attempts.append(what)
        return ConnectionRefusedError(f"contract tests are offline: refused {what}")

    def check(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise refused(f"connect to {address[0]}:{address[1]}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        # An address literal needs no lookup: ``connect`` judges it.
        if name is not None and not _is_loopback(name) and not _is_address(name):
            attempts.append(f"name lookup of {name}")
            raise socket.gaierror(socket.EAI_NONAME, f"contract tests are offline: refused lookup of {name}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


def import_offline(name: str, reason: str) -> Any:
    """``pytest.importorskip(name)`` under the guard; an import that reaches out is an error, not a skip."""
    with loopback_only() as attempts:
        module = pytest.importorskip(name, reason=reason)
    if attempts:
        raise AssertionError(f"importing {name} tried to reach the network: {'; '.join(attempts)}")
    return module
