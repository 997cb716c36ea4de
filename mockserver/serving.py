"""Running an aiohttp application on loopback in a background thread.

Tests, the pytest plugin and benchmarks need a real server on a real port without a subprocess; this runs
one on its own event loop in a daemon thread, on a free port unless one is given.

``runner_options`` are handed to ``web.AppRunner`` as a real host would pass them: a shim in a test needs
``handler_cancellation=True`` (``shim.app.RUNNER_OPTIONS``) to cancel its upstream request the moment its
client leaves, as ``mistral-shim serve`` does. ``run()`` executes a coroutine on the server's own loop, so a
test can look inside the running server (its tasks, its app) without racing it.
"""

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")
DEFAULT_RUNNER_OPTIONS: Mapping[str, Any] = {"access_log": None}


class ServerThread:
    def __init__(
        self,
        make_app: Callable[[], web.Application],
        host: str = "127.0.0.1",
        port: int = 0,
        runner_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._make_app = make_app
        self.host = host
        self.port = port
        self.runner_options = {**DEFAULT_RUNNER_OPTIONS, **(runner_options or {})}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def app(self) -> web.Application:
        """The running application (for tests that inspect its state through ``run``)."""
        assert self._runner is not None, "the server is not started"
        return self._runner.app

    def start(self) -> str:
        self._thread = threading.Thread(target=self._run, name=f"server-{self.host}", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise RuntimeError("server failed to start") from self._error
        return self.url

    def run(self, make: Callable[[], Awaitable[T]], timeout: float = 30) -> T:
        """Await ``make()`` on the server's loop from another thread, and return its result."""
        assert self._loop is not None, "the server is not started"

        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
        # Connections still lingering (aiohttp reads what is left of a refused body) end with the loop.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.wait(pending, timeout=5))
        self._loop.close()

    async def _serve(self) -> None:
        self._runner = web.AppRunner(self._make_app(), **self.runner_options)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        # The runner's one site: its listening sockets' addresses, (host, port, ...) each.
        addresses = self._runner.addresses
        if self.port == 0 and addresses:
            self.port = addresses[0][1]

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
