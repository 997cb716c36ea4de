"""The session's two servers: one mock and one shim in front of it, on loopback, in this process.

They start once per pytest session (once per worker under pytest-xdist, each worker being its own
process), the first time a test asks for them, and stop when the session ends. Between tests nothing is
restarted: the mock is pointed at each test's recordings, mode and fixtures in turn (``use``), by a call on
its own event loop (``mockserver.chain.switch``). There is no admin route to call over HTTP, so nothing
else that can reach the port can repoint the mock.

The shim is the one ``mistral-shim serve`` runs, with the project's configuration (a TOML file named by the
``mistral_shim_config`` ini option, and ``mistral_shim_aliases`` lines), in front of the mock: a request
from an OpenAI-SDK test goes app -> shim -> mock, so what is recorded (and replayed) is the Mistral side,
and a replay still exercises the shim's translation.
"""

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from mockserver.app import create_app
from mockserver.chain import Chain, switch
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from mockserver.sources.synthetic.source import SyntheticSource
from shim import settings as shim_settings
from shim.app import RUNNER_OPTIONS
from shim.app import create_app as create_shim
from shim.settings import ShimSettings


def shim_config(config_file: Path | None, aliases: Mapping[str, str], upstream: str) -> ShimSettings:
    """The shim a project configured, in front of ``upstream``, on a free loopback port.

    The file is read as ``mistral-shim serve --config`` reads it (a mistake is the same one-line
    ``SettingsError``), but not the environment: a developer's ``MISTRAL_API_KEY`` or ``MISTRAL_BASE_URL``
    must not send the tests' traffic elsewhere. Client keys are off (each client's bearer is forwarded
    to the mock), and stored Responses live in memory, for the session only.
    """
    loaded = shim_settings.load({}, environ={}, config_file=config_file)
    return dataclasses.replace(
        loaded,
        host="127.0.0.1",
        port=0,
        upstream=upstream,
        mistral_api_key=None,
        client_keys=frozenset(),
        aliases={**loaded.aliases, **aliases},
        responses_store="memory://",
    )


class Servers:
    """The session's mock (started at once) and shim (started when first asked for)."""

    def __init__(self, mock: MockSettings, shim_file: Path | None, aliases: Mapping[str, str]) -> None:
        self.base = mock
        # One generator for every test's chain: its cache of computed answers outlives a switch.
        self.synthetic = SyntheticSource()
        self._mock = ServerThread(lambda: create_app(mock, any_route=True))
        self.mock_url = self._mock.start()
        self._shim_file = shim_file
        self._aliases = dict(aliases)
        self._shim: ServerThread | None = None
        self.shim_settings: ShimSettings | None = None

    @property
    def shim_url(self) -> str:
        """The shim's base URL (without ``/v1``), started on first use."""
        if self._shim is None:
            settings = shim_config(self._shim_file, self._aliases, self.mock_url)
            self.shim_settings = settings
            shim = ServerThread(lambda: create_shim(settings), runner_options=RUNNER_OPTIONS)
            shim.start()
            self._shim = shim
        return self._shim.url

    def use(self, chain: Chain) -> None:
        """Answer from ``chain`` from now on (the previous test's chain is stopped)."""
        app: web.Application = self._mock.app
        self._mock.run(lambda: switch(app, chain))

    def stop(self) -> None:
        if self._shim is not None:
            self._shim.stop()
        self._mock.stop()
