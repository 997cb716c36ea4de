"""What outlives a client: the shim in-process as ``mistral-shim serve`` runs it (its handlers cancelled when
a client leaves), the tasks alive on its loop, a process's descriptors and memory, and a poll until cleanup
(which runs after the answer) has settled."""

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mockserver.serving import ServerThread
from shim.app import RUNNER_OPTIONS
from shim.app import create_app as create_shim
from shim.settings import ShimSettings


@contextmanager
def keen_shim(upstream: str, **settings: object) -> Iterator[ServerThread]:
    """An in-process shim run with ``RUNNER_OPTIONS``, so its handlers are cancelled when a client leaves."""
    config = ShimSettings(upstream=upstream, **{"responses_store": "memory://", **settings})  # type: ignore[arg-type]
    server = ServerThread(lambda: create_shim(config), runner_options=RUNNER_OPTIONS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def task_count(server: ServerThread) -> int:
    """The asyncio tasks alive on the server's loop (the one asking included)."""

    async def count() -> int:
        return len(asyncio.all_tasks())

    return server.run(count)


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def settle(read: Callable[[], int], target: int, timeout: float = 10) -> int:
    """Poll ``read()`` until it reaches ``target`` or less (cleanup runs after the answer); its last value."""
    deadline = time.monotonic() + timeout
    value = read()
    while value > target and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    return value
