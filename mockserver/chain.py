"""What the mock answers from: the sources of one configuration, in order, and what they need while they run.

A ``Chain`` is built from the settings (``build``): authored fixtures first, then by mode: recordings and
the miss (replay), the upstream (record), both (auto), or the files and batch jobs and the generator
(synthetic, or replay with ``--on-miss synthetic``). It owns what those sources share: the recordings
store, the recorder's client session, and the problems they noted (misses, answers the recorder refused
to save, impossible fixtures).

``create_app`` serves one chain for the server's whole life. The pytest plugin's session mock is given a new
chain for each test (``switch``): one server replays, records or generates for each test in turn, from
that test's recordings folder and fixtures, without a restart. The switch is a function call on the
server's own event loop, not an HTTP route, so nothing reachable over the network can repoint the mock.
"""

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from mockserver.jobs.source import JobsSource
from mockserver.recording.store import RecordingStore
from mockserver.settings import MockSettings
from mockserver.sources import Problem, Source
from mockserver.sources.fixtures import FixtureSource
from mockserver.sources.fixtures import load as load_rules
from mockserver.sources.record import RecordSource
from mockserver.sources.replay import MissSource, ReplaySource
from mockserver.sources.synthetic.source import SyntheticSource


@dataclass
class Chain:
    settings: MockSettings
    sources: tuple[Source, ...]
    fixtures: FixtureSource
    store: RecordingStore | None = None
    recorder: RecordSource | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def generates(self) -> bool:
        """Whether an answer may be generated (and so needs Mistral's tokenizer): by the generator, or by
        an authored rule (a test may add one while the chain serves)."""
        settings = self.settings
        return settings.mode == "synthetic" or settings.on_miss == "synthetic" or bool(self.fixtures.rules)

    async def start(self) -> None:
        """Index the recordings (in a thread) and open the recorder's session."""
        if self.store is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.store.load)
        if self.recorder is not None:
            await self.recorder.start()

    async def stop(self) -> None:
        if self.recorder is not None:
            await self.recorder.stop()


def build(settings: MockSettings, synthetic: SyntheticSource | None = None) -> Chain:
    """The chain the settings ask for (not started). Raises ``FixtureError`` for a bad fixtures file.

    ``synthetic`` lets successive chains share one generator (and its cache of computed answers)."""
    problems: list[Problem] = []
    rules = load_rules(settings.fixtures) if settings.fixtures is not None else []
    fixtures = FixtureSource(rules, problems)
    generator = synthetic or SyntheticSource()
    if settings.mode == "synthetic":
        return Chain(settings, (fixtures, JobsSource(), generator), fixtures, problems=problems)
    assert settings.recordings is not None, f"--mode {settings.mode} needs --recordings DIR"
    store = RecordingStore(
        settings.recordings, ignore_fields=settings.ignore_fields, secrets=settings.secrets
    )
    replay = ReplaySource(store, problems=problems, name_errors=settings.name_replayed_errors)
    if settings.mode == "replay":
        if settings.on_miss == "synthetic":
            generated = (fixtures, replay, JobsSource(), generator)
            return Chain(settings, generated, fixtures, store, problems=problems)
        return Chain(
            settings, (fixtures, replay, MissSource(store, problems)), fixtures, store, problems=problems
        )
    recorder = RecordSource(store, settings.upstream, settings.upstream_key, problems)
    if settings.mode == "auto":
        return Chain(settings, (fixtures, replay, recorder), fixtures, store, recorder, problems)
    return Chain(settings, (fixtures, recorder), fixtures, store, recorder, problems)


class Current:
    """The chain a running app answers from, replaced whole by ``switch``."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain


CHAIN = web.AppKey("chain", Current)


async def switch(app: web.Application, chain: Chain) -> Chain:
    """Answer from ``chain`` from now on (started here); return the previous chain, stopped."""
    await chain.start()
    current = app[CHAIN]
    previous, current.chain = current.chain, chain
    await previous.stop()
    return previous
