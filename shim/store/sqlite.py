"""``sqlite:///PATH``: the embedded default, one file that survives restarts, read and written off the loop.

Two connections, each on a thread of its own (``sqlite_thread``), each handed whole units of work: a
writer, running one transaction at a time (so another caller's statement never lands inside one), and a
reader, which in WAL mode sees only committed transactions and never waits for the writer. Several
processes may share the file (gunicorn workers): SQLite locks it, and ``busy_timeout`` makes a second
writer wait instead of failing.

Durability: WAL with ``synchronous=NORMAL``. A commit is in the WAL file (the OS's page cache) before
``put`` returns, so a process killed at any point, mid-transaction included, leaves a readable store with
every acknowledged write, and a transaction cut short is rolled back when the file is next opened. What
NORMAL gives up against FULL is only the last commits on a power loss or OS crash (never the file's
integrity), in exchange for no fsync per ``put`` (an fsync costs milliseconds on ordinary disks; a stored
Response is a conversation's state, not a ledger).

Paths follow SQLAlchemy's spelling: ``sqlite:///relative/file`` and ``sqlite:////absolute/file``.

``close()`` is awaited by the app's cleanup: closing the last connection checkpoints the WAL into the
file, leaving one file behind.
"""

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from shim.store import ItemPage, StoredResponse
from shim.store.owners import new_secret, owner
from shim.store.records import (
    OWNER_SECRET_KEY,
    SCHEMA_VERSION,
    VERSION_KEY,
    SchemaTooNew,
    assemble_chain,
    assemble_history,
    decode,
    encode,
    item_rows,
)
from shim.store.sqlite_thread import SqliteThread

log = logging.getLogger("shim.store")

T = TypeVar("T")

PREFIX = "sqlite:///"

# Each version's statements, applied in order in one transaction at start() from the version found.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE responses (
            id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            previous_id TEXT,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX responses_by_expiry ON responses (expires_at)",
        """CREATE TABLE items (
            response_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('input', 'output')),
            position INTEGER NOT NULL,
            item_id TEXT,
            owner TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (response_id, role, position)
        )""",
        "CREATE INDEX items_by_id ON items (owner, item_id)",
    ),
}

UPSERT_RESPONSE = """
INSERT INTO responses (id, owner, previous_id, created_at, expires_at, body) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, previous_id = excluded.previous_id,
    created_at = excluded.created_at, expires_at = excluded.expires_at, body = excluded.body
"""
INSERT_ITEM = (
    "INSERT INTO items (response_id, role, position, item_id, owner, body) VALUES (?, ?, ?, ?, ?, ?)"
)

# The response and its items, as the chain query's rows (records.ChainRow; a chain of one). CROSS JOIN
# keeps SQLite's join order: the response by its key first, then its items by theirs.
GET = """
SELECT 0, id, previous_id, created_at, expires_at, body, NULL
FROM responses WHERE id = :id AND owner = :owner AND expires_at > :now
UNION ALL
SELECT CASE i.role WHEN 'input' THEN 1 ELSE 2 END, i.response_id, NULL, NULL, NULL, i.body, i.position
FROM responses AS r CROSS JOIN items AS i ON i.response_id = r.id
WHERE r.id = :id AND r.owner = :owner AND r.expires_at > :now
"""

# One statement: the responses reachable back through previous_id (each hop one primary-key lookup,
# stopping at a foreign, expired or missing one; UNION stops a cycle), then their rows and their items'
# (records.ChainRow, unordered: records.assemble_chain orders them). HISTORY is the same without the
# responses' bodies (records.assemble_history).
_CHAIN = """
WITH RECURSIVE chain (id, previous_id) AS (
    SELECT id, previous_id FROM responses WHERE id = :id AND owner = :owner AND expires_at > :now
    UNION
    SELECT r.id, r.previous_id FROM chain CROSS JOIN responses AS r ON r.id = chain.previous_id
    WHERE r.owner = :owner AND r.expires_at > :now
)
SELECT 0, r.id, r.previous_id, r.created_at, r.expires_at, {body}, NULL
FROM chain CROSS JOIN responses AS r ON r.id = chain.id
UNION ALL
SELECT CASE i.role WHEN 'input' THEN 1 ELSE 2 END, i.response_id, NULL, NULL, NULL, i.body, i.position
FROM chain CROSS JOIN items AS i ON i.response_id = chain.id
"""
CHAIN = _CHAIN.format(body="r.body")
HISTORY = _CHAIN.format(body="NULL")

ITEM = """
SELECT i.body FROM items AS i CROSS JOIN responses AS r ON r.id = i.response_id
WHERE i.owner = :owner AND i.item_id = :item AND r.owner = :owner AND r.expires_at > :now
LIMIT 1
"""

# A page of input items after the one named ``after``. The response row drives a LEFT JOIN, so a response
# without (further) items still gives one row (body NULL) and an absent one gives none. An ``after`` that
# is not among the items makes the bound NULL: an empty page, as the memory engine.
_PAGE = """
SELECT i.body FROM responses AS r LEFT JOIN items AS i
    ON i.response_id = r.id AND i.role = 'input'
    AND (:after IS NULL OR i.position {op} (
        SELECT {edge}(position) FROM items
        WHERE response_id = :id AND role = 'input' AND item_id = :after))
WHERE r.id = :id AND r.owner = :owner AND r.expires_at > :now
ORDER BY i.position {order}
LIMIT :rows
"""
PAGE_ASCENDING = _PAGE.format(op=">", edge="MIN", order="ASC")
PAGE_DESCENDING = _PAGE.format(op="<", edge="MAX", order="DESC")

PURGE_BATCH = 500
"""Expired responses deleted per transaction, so a large purge never holds the writer for long."""


class SqliteStore:
    """Stored Responses in one SQLite file (see the module's docstring)."""

    def __init__(self, url: str, *, trace: Callable[[str], None] | None = None) -> None:
        """``url`` is ``sqlite:///PATH``. ``trace`` receives the text of every SQL statement the store runs
        (sqlite3's trace callback; for diagnostics, and for tests counting queries)."""
        if not url.startswith(PREFIX) or url == PREFIX:
            raise ValueError(f"a SQLite store URL is sqlite:///PATH, not {url!r}")
        self.path = Path(url[len(PREFIX) :])
        self._trace = trace
        self._writer = SqliteThread(self.path, "writer")
        self._reader = SqliteThread(self.path, "reader")
        self._secret = ""

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
        await self._writer.open(self._trace)
        mode = await self._writer.run(_wal_mode)
        if mode != "wal":
            log.warning("the Responses store %s could not use WAL mode (%s)", self.path, mode)
        await self._writer.run(lambda db: db.execute("PRAGMA synchronous = NORMAL"))
        self._secret = await self._transaction(_migrate)
        await self._reader.open(self._trace)
        await self._reader.run(lambda db: db.execute("PRAGMA query_only = ON"))
        await self.purge(time.time())

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    # --- writes ----------------------------------------------------------------------------------------

    async def put(self, record: StoredResponse) -> None:
        await self.put_many((record,))

    async def put_many(self, records: Sequence[StoredResponse]) -> None:
        """Write several responses (each replacing a record of the same id) in one transaction. ``put`` is
        this with one; a bulk import or a benchmark's seeding uses it directly."""
        responses = [
            (r.id, r.owner, r.previous_id, r.created_at, r.expires_at, encode(r.response)) for r in records
        ]
        items = [row for record in records for row in item_rows(record)]
        ids = [(record.id,) for record in records]

        def write(db: sqlite3.Connection) -> None:
            db.executemany(UPSERT_RESPONSE, responses)
            db.executemany("DELETE FROM items WHERE response_id = ?", ids)
            db.executemany(INSERT_ITEM, items)

        await self._transaction(write)

    async def delete(self, owner: str, response_id: str) -> bool:
        def remove(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "DELETE FROM responses WHERE id = ? AND owner = ? AND expires_at > ?",
                (response_id, owner, time.time()),
            )
            if cursor.rowcount < 1:
                return False
            db.execute("DELETE FROM items WHERE response_id = ?", (response_id,))
            return True

        return await self._transaction(remove)

    async def purge(self, now: float) -> int:
        def remove_batch(db: sqlite3.Connection) -> int:
            rows = db.execute(
                "SELECT id FROM responses WHERE expires_at <= ? LIMIT ?", (now, PURGE_BATCH)
            ).fetchall()
            ids = [(row[0],) for row in rows]
            db.executemany("DELETE FROM items WHERE response_id = ?", ids)
            db.executemany("DELETE FROM responses WHERE id = ?", ids)
            return len(ids)

        total = 0
        while True:
            removed = await self._transaction(remove_batch)
            total += removed
            if removed < PURGE_BATCH:
                return total

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` in one write transaction, whole or not at all, handed to the writer's thread at once:
        a caller that stops waiting (a client that left) does not cut it short."""
        return await self._writer.run(lambda db: _in_transaction(db, work))

    # --- reads -----------------------------------------------------------------------------------------

    async def _rows(self, query: str, parameters: dict[str, Any]) -> list[Any]:
        return await self._reader.run(lambda db: db.execute(query, parameters).fetchall())

    async def owner_of(self, credential: str) -> str:
        if not self._secret:
            raise RuntimeError("the SQLite store is not started")
        return owner(self._secret, credential)

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        rows = await self._rows(GET, {"id": response_id, "owner": owner, "now": time.time()})
        chain = assemble_chain(owner, response_id, rows)
        return None if chain is None else chain[-1]

    async def chain(self, owner: str, response_id: str) -> list[StoredResponse] | None:
        rows = await self._rows(CHAIN, {"id": response_id, "owner": owner, "now": time.time()})
        return assemble_chain(owner, response_id, rows)

    async def history(self, owner: str, response_id: str) -> list[dict[str, Any]] | None:
        rows = await self._rows(HISTORY, {"id": response_id, "owner": owner, "now": time.time()})
        return assemble_history(response_id, rows)

    async def item(self, owner: str, item_id: str) -> dict[str, Any] | None:
        rows = await self._rows(ITEM, {"owner": owner, "item": item_id, "now": time.time()})
        return None if not rows else decode(rows[0][0])

    async def input_items(
        self, owner: str, response_id: str, *, after: str | None, limit: int, descending: bool
    ) -> ItemPage | None:
        rows = await self._rows(
            PAGE_DESCENDING if descending else PAGE_ASCENDING,
            {"id": response_id, "owner": owner, "now": time.time(), "after": after, "rows": limit + 1},
        )
        if not rows:
            return None
        items = [decode(body) for (body,) in rows if body is not None]
        return ItemPage(items[:limit], len(items) > limit)


def _wal_mode(db: sqlite3.Connection, attempts: int = 100) -> str:
    """Switch the file to WAL mode; the mode it is in. Shims opening one new file together each switch
    it, and a switch that meets another's lock fails at once, without waiting (busy_timeout does not apply
    where waiting could deadlock): so it is tried again, briefly, on the store's own thread."""
    for _attempt in range(attempts - 1):
        try:
            return str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            time.sleep(0.01)
    return str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])


def _in_transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work(db)`` between ``BEGIN IMMEDIATE`` (taking the file's write lock at once, so two writers wait
    for each other instead of failing on upgrade) and ``COMMIT``; rolled back when it raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def _migrate(db: sqlite3.Connection) -> str:
    """Create or migrate the schema and keep the owner secret (in one transaction: two shims opening one
    new file do it one after the other); the secret."""
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    row = db.execute("SELECT value FROM meta WHERE key = ?", (VERSION_KEY,)).fetchone()
    found = int(row[0]) if row else 0
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(found)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS[version]:
            db.execute(statement)
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (VERSION_KEY, str(SCHEMA_VERSION)),
    )
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        (OWNER_SECRET_KEY, new_secret()),
    )
    if found < SCHEMA_VERSION:
        log.info("Responses store: schema version %d (was %d)", SCHEMA_VERSION, found)
    return str(db.execute("SELECT value FROM meta WHERE key = ?", (OWNER_SECRET_KEY,)).fetchone()[0])
