"""The framework tests' network guard, held to its promise: it refuses, records, and lets loopback by.

Every framework test runs inside :func:`loopback_only` and fails on any attempt it records, so a guard that
silently let a connection through would make all of those checks vacuous. Refused attempts never leave the
machine: the guard raises before the real ``connect`` or lookup runs.
"""

from __future__ import annotations

import os
import socket

import pytest

from contract_tests.frameworks.offline import SETTINGS, loopback_only

pytestmark = [
    pytest.mark.feature("Frameworks", "offline: nothing beyond loopback"),
    pytest.mark.column("offline"),
]

DOCUMENTATION_ADDRESS = "192.0.2.1"
"""TEST-NET-1 (RFC 5737): an address that is nobody's, were the guard ever to let the connect through."""


def test_guard_refuses_and_records_other_addresses() -> None:
    with loopback_only() as attempts:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((DOCUMENTATION_ADDRESS, 443), timeout=0.5)
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("api.mistral.ai", 443)
    assert attempts == [f"connect to {DOCUMENTATION_ADDRESS}:443", "name lookup of api.mistral.ai"]


def test_guard_lets_loopback_through() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server, loopback_only() as attempts:
        port = server.getsockname()[1]
        with socket.create_connection(("localhost", port), timeout=5):
            pass
    assert attempts == []


def test_guard_restores_the_socket_module() -> None:
    before = (socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo)
    with loopback_only():
        assert socket.getaddrinfo is not before[2]
    assert (socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo) == before


def test_frameworks_are_told_to_stay_offline() -> None:
    """The conftest applied the settings before any framework module was imported."""
    assert {name: os.environ.get(name) for name in SETTINGS} == SETTINGS
