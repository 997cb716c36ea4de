"""The pytest plugin's old home, kept for environments installed before it moved to ``pytest_mistral``.

An editable install made before the move still names this module as its ``mistral_compat`` entry point;
re-exporting the plugin here keeps such an environment working until it is reinstalled (``make`` does it
when ``pyproject.toml`` changes). Nothing else imports this module; the import contracts allow it this one
import of the plugin, and through it of both servers.
"""

from pytest_mistral.plugin import *  # noqa: F403  # re-exported whole: hooks and fixtures by name
from pytest_mistral.plugin import (  # the hooks and fixtures pytest looks for by name
    async_openai_client,
    mistral_client,
    mistral_fixtures,
    mistral_mock,
    mistral_openai_client,
    mistral_shim,
    openai_client,
    pytest_addoption,
    pytest_configure,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    pytest_unconfigure,
)

__all__ = [
    "async_openai_client",
    "mistral_client",
    "mistral_fixtures",
    "mistral_mock",
    "mistral_openai_client",
    "mistral_shim",
    "openai_client",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
]
