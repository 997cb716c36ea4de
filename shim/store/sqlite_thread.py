"""A sqlite3 connection that lives on a thread of its own, so no query blocks the event loop.

The store hands the thread a whole unit of work (a transaction of several statements, or one query and its
rows) as one function: one hand-off to the thread and one wake-up of the loop, however many statements it
runs. A library that hands over each statement separately (aiosqlite, used here before) costs a hand-off
and a wake-up per statement: a stored response's five (begin, three writes, commit) cost the shim about
three times the CPU of the write itself.

One thread per connection, and one unit at a time on it: a transaction is never interleaved with another
caller's statements, without a lock. A unit the caller stops waiting for (cancelled) still runs whole once
started, or not at all when it had not started.
"""

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
"""How long a statement waits for another process's lock on the file before failing."""


class SqliteThread:
    """One sqlite3 connection, used only from its own thread."""

    def __init__(self, path: Path, name: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"shim-sqlite-{name}")
        self._connection: sqlite3.Connection | None = None

    async def open(self, trace: Callable[[str], None] | None = None) -> None:
        """Connect (in the thread) without implicit transactions (the caller runs ``BEGIN IMMEDIATE``),
        waiting for another process's lock rather than failing at once. ``trace`` receives the text of
        every statement (sqlite3's trace callback), on the connection's thread."""

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if trace is not None:
                connection.set_trace_callback(trace)
            return connection

        self._connection = await asyncio.get_running_loop().run_in_executor(self._executor, connect)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` on the connection's thread; its result, or its exception."""
        connection = self._connection
        if connection is None:
            raise RuntimeError(f"the SQLite connection to {self._path} is not open")
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, connection)

    async def close(self) -> None:
        """Close the connection and end its thread (after any unit already handed over)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, connection.close)
        self._executor.shutdown(wait=False)
