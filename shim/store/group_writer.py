"""The PostgreSQL store's writes: one connection of their own, and every put waiting at once sent together.

A put through the pool paid for taking a connection and giving it back (about 36 us of the shim's CPU of
88 us per put, measured on the 2-core bench box) and a commit of its own. Here one task drains a queue on a
connection it keeps: a lone put is one statement, and the puts that arrived while one was being written
go together as one ``executemany`` (one round trip, one transaction: a group commit), so a busy shim
sends fewer, larger writes rather than more.

Each put still waits for its own outcome. A batch the database refuses (a ``PostgresError``) is written
again one put at a time, so one bad record fails alone; a batch that could not reach the database fails
whole, at once, rather than trying to connect again for each of its puts. A connection that is closed after
a failure (the server restarted, an administrator ended it) is replaced and the batch sent once more: a put
is an upsert of a whole response, so writing it twice leaves what writing it once does.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

log = logging.getLogger("shim.store")

Arguments = tuple[Any, ...]
Connect = Callable[[], Awaitable[Any]]


class GroupWriter:
    """Runs ``statement`` with each put's arguments on one connection, batching the puts that queue up."""

    def __init__(self, connect: Connect, statement: str) -> None:
        self._connect = connect
        self._statement = statement
        self._connection: Any = None
        self._queue: list[tuple[Arguments, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._connection = await self._connect()
        self._task = asyncio.create_task(self._drain(), name="postgres store writer")

    async def write(self, arguments: Arguments) -> None:
        """Return once the statement ran with ``arguments`` (committed), or raise what it raised."""
        if self._task is None or self._task.done() or self._closing:
            raise RuntimeError("the PostgreSQL store's writer is not running")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((arguments, done))
        self._wakeup.set()
        await done

    async def close(self) -> None:
        """Write what is queued, then stop and close the connection."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _drain(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._queue = self._queue, []
            if batch:
                await self._write(batch)
            if self._closing and not self._queue:
                return

    async def _write(self, batch: Sequence[tuple[Arguments, asyncio.Future[None]]]) -> None:
        try:
            await self._run([arguments for arguments, _ in batch])
        except Exception as error:
            if len(batch) > 1 and isinstance(error, asyncpg.PostgresError):
                for one in batch:  # one bad record must not fail the others
                    await self._write([one])
                return
            _settle(batch, error)
            return
        _settle(batch, None)

    async def _run(self, rows: list[Arguments]) -> None:
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = await self._connect()
            connection = self._connection
            try:
                if len(rows) == 1:
                    await connection.execute(self._statement, *rows[0])
                else:
                    await connection.executemany(self._statement, rows)
                return
            except Exception:
                if attempt == 2 or not connection.is_closed():
                    raise
                log.warning("the PostgreSQL store's write connection closed; opening another")
                self._connection = None


def _settle(batch: Sequence[tuple[Arguments, asyncio.Future[None]]], error: Exception | None) -> None:
    for _, done in batch:
        if done.done():  # its caller stopped waiting; the write happened (or failed) all the same
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
