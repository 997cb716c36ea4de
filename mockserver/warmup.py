"""Mistral's tokenizer and the prose corpus, loaded in a thread, for the sources that generate answers.

Loading them takes about 1.2 s of CPU. The generator, authored fixtures and synthetic batch lines need
them; replaying recordings does not, and a replaying mock that loaded them anyway would spend its first
second and a half on it, its requests waiting. So the load starts at startup when the chain can generate
(``Chain.generates``), or at the first request a generating chain gets (the pytest plugin switches chains
while the server runs), and only requests to a generating chain wait for it, in a thread, never on the loop.
"""

import asyncio
import gc

from mistral_wire import tokens


class Warmup:
    """One load per server, started the first time it is asked for."""

    def __init__(self) -> None:
        self._future: asyncio.Future[None] | None = None

    @property
    def started(self) -> bool:
        return self._future is not None

    @property
    def done(self) -> bool:
        return self._future is not None and self._future.done()

    def start(self) -> "asyncio.Future[None]":
        """The load, started in a thread on the first call (the same future afterwards)."""
        if self._future is None:
            from mockserver.sources.synthetic import prose

            def load() -> None:
                tokens.warm(("tekken",))
                prose.warm()

            future = asyncio.get_running_loop().run_in_executor(None, load)
            future.add_done_callback(_loaded)
            self._future = future
        return self._future

    async def ready(self) -> None:
        """Return once the load is done; other requests go on meanwhile."""
        future = self.start()
        if not future.done():
            await asyncio.shield(future)


def _loaded(future: "asyncio.Future[None]") -> None:
    """The vocabulary and the corpus live as long as the process: out of the collector's sight, as the
    startup objects are (``mockserver.app``). Runs on the loop, between requests."""
    if not future.cancelled() and future.exception() is None:  # retrieved: never "never retrieved"
        gc.freeze()
