"""The places a contract test can send the official clients to, and the servers each one needs.

A target is one answer to "what is on the other end of ``base_url``": the shim in front of the synthetic
mock, the shim in front of the mock replaying ``recordings/contract``, the mock alone (what a team gets by
only changing ``base_url``), or the real API with and without the shim. The same test runs against each,
so a row of the compatibility matrix compares like with like.

``shim+record`` is not a target a user picks: ``make recordings`` runs the suite through it to write the
fixtures ``shim+replay`` answers from.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from mockserver.app import create_app as create_mock
from mockserver.serving import ServerThread
from mockserver.settings import MockSettings
from shim.app import create_app as create_shim
from shim.settings import ShimSettings

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = Path(os.environ.get("CONTRACT_RECORDINGS") or ROOT / "recordings" / "contract")
"""Where ``shim+record`` writes and ``shim+replay`` reads; ``make recordings`` empties it first."""
LIVE_API = os.environ.get("MISTRAL_BASE_URL", "https://api.mistral.ai")

KEY = "contract-test-key"
"""The bearer the offline targets accept; any other key is refused with a 401, like a revoked key."""

OFFLINE = ("shim+mock", "shim+replay", "mock")
LIVE = ("live", "live-direct")
TARGETS = (*OFFLINE, *LIVE)
RECORD = "shim+record"


@dataclass(frozen=True)
class Target:
    """One end of ``base_url`` for the openai client, and what a test may expect of it."""

    name: str
    base_url: str
    """The openai client's ``base_url`` (ends in ``/v1``)."""
    api_key: str
    via_shim: bool
    """False where the client talks to Mistral (or the mock) directly: OpenAI-only features break there."""
    mistral_url: str
    """The Mistral-side server this target ends at: for Mistral's own SDK and raw Mistral requests."""
    faults: bool
    """Whether the mock's ``x-mock-fault`` header reaches a mock (never on the live API)."""
    live: bool

    @property
    def root_url(self) -> str:
        """``base_url`` without ``/v1``: where the pass-through and health routes are."""
        return self.base_url.removesuffix("/v1")


class Servers:
    """Starts each target's servers the first time a test asks for it; stops them all at the end."""

    def __init__(self, live_key: str | None, record_upstream: str | None = None) -> None:
        self._live_key = live_key
        self._record_upstream = record_upstream
        self._stack = ExitStack()
        self._targets: dict[str, Target] = {}

    def get(self, name: str) -> Target:
        if name not in self._targets:
            self._targets[name] = self._start(name)
        return self._targets[name]

    def close(self) -> None:
        self._stack.close()

    def _serve(self, make: Callable[[], web.Application]) -> str:
        return self._stack.enter_context(ServerThread(make))

    def _mock(self, **settings: object) -> str:
        config = MockSettings(api_keys=frozenset({KEY}), **settings)  # type: ignore[arg-type]
        return self._serve(lambda: create_mock(config))

    def _shim(self, upstream: str, **settings: object) -> str:
        # The Responses store in memory: every shim of the session is its own, and nothing goes to disk.
        config = ShimSettings(upstream=upstream, responses_store="memory://", **settings)  # type: ignore[arg-type]
        return self._serve(lambda: create_shim(config))

    def _start(self, name: str) -> Target:
        if name == "shim+mock":
            mock = self._mock()
            return Target(name, f"{self._shim(mock)}/v1", KEY, True, mock, faults=True, live=False)
        if name == "shim+replay":
            mock = self._mock(mode="replay", recordings=RECORDINGS, speed=0.0, on_miss="error")
            return Target(name, f"{self._shim(mock)}/v1", KEY, True, mock, faults=True, live=False)
        if name == "mock":
            mock = self._mock()
            return Target(name, f"{mock}/v1", KEY, False, mock, faults=True, live=False)
        if name == RECORD:
            return self._recorder()
        if not self._live_key:
            raise LookupError(f"the {name} target needs MISTRAL_API_KEY")
        if name == "live":
            shim = self._shim(LIVE_API, mistral_api_key=self._live_key)
            return Target(name, f"{shim}/v1", "any-client-key", True, LIVE_API, faults=False, live=True)
        if name == "live-direct":
            return Target(name, f"{LIVE_API}/v1", self._live_key, False, LIVE_API, faults=False, live=True)
        raise LookupError(f"unknown target {name!r}; known: {', '.join((*TARGETS, RECORD))}")

    def _recorder(self) -> Target:
        """The shim in front of a recording mock, in front of the synthetic mock (or the live API).

        Recordings add to what the folder holds (a repeated request becomes ``.2.json``), so record into
        an empty folder: ``make recordings`` does.
        """
        if self._record_upstream:
            upstream, key = self._record_upstream, self._live_key
        else:
            upstream, key = self._mock(), KEY
        recorder = self._mock(mode="record", upstream=upstream, upstream_key=key, recordings=RECORDINGS)
        return Target(RECORD, f"{self._shim(recorder)}/v1", KEY, True, recorder, faults=True, live=False)
