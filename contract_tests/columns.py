"""``--target`` for the tests that take no ``target``: they run only when their matrix column is selected.

The oracles of ``test_real_traffic.py`` and ``test_schemathesis.py`` start their own servers and fill one
column each (``shim+replay``, ``mock``, ``shim+mock``). A run that selects other targets (``--target live``,
or ``shim+record`` while ``make recordings`` writes fixtures) has not asked for them, so they skip.
"""

from __future__ import annotations

import pytest


def selected(config: pytest.Config, column: str) -> bool:
    """Whether ``--target`` names ``column`` (or ``all``)."""
    names = {name.strip() for name in str(config.getoption("--target")).split(",") if name.strip()}
    return "all" in names or column in names


def skip_unless_selected(config: pytest.Config, column: str) -> None:
    if not selected(config, column):
        pytest.skip(f"the {column} column is not among --target")
