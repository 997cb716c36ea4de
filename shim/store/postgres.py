"""``postgresql://...``: the store several shims share behind a load balancer (asyncpg, a connection pool).

The schema is created or migrated at ``start()`` in one transaction holding a transaction-level advisory
lock, so shims starting together take turns; the owner secret is inserted only if absent and read back,
so every shim sharing the database hashes a credential alike. Tables are prefixed ``shim_`` in case the
database is not the shim's alone (its own database is better).

Each write is one statement: ``put`` calls a SQL function (part of the schema) that upserts the response
row, which locks it, then replaces its items; each statement of a volatile function sees a fresh snapshot,
so two puts of one id (a background response's updates) apply one after the other and never leave two
versions' items mixed. Puts go through one connection of their own (``group_writer``), the puts waiting
at once together; reads, deletes and purges use the pool. Reads are single statements; ``chain`` is one
recursive query.

Bodies are ``json``, not ``jsonb``: ``jsonb`` refuses the escape ``\\u0000`` (a NUL a model or a client
can put in any string, "unsupported Unicode escape sequence") and reorders keys, while ``json`` keeps the
text as written, still checked to be JSON; the store never queries inside a body.

Commits do not wait for the WAL's flush (``synchronous_commit = off``, set per connection when the URL does
not name it): the shim writes a response beside its answer, after the client has it, so no client ever
waited for that flush, and waiting only held a server process and a disk flush per response on the
database's machine. What it gives up is the last moments of writes (at most three WAL-writer delays, 0.6
s by default) if the database server crashes, never a write torn or out of order: the exposure the shim
already has for a write in flight when the shim itself stops, and the same choice as the SQLite engine's
``synchronous=NORMAL``. ``?synchronous_commit=on`` in the URL makes every commit wait again.

The pool's per-release reset (``RESET ALL``, ``UNLISTEN *``... one more round trip per call) is skipped:
the store sets no session state beyond what the connection opens with.
"""

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg

from shim.store import ItemPage, StoredResponse
from shim.store.group_writer import GroupWriter
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
    item_id,
)

log = logging.getLogger("shim.store")

MIGRATION_LOCK = 0x6D73_686D_7374_6F72
"""The advisory lock key shims take while creating or migrating the schema ("mshmstor")."""

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE shim_responses (
            id text COLLATE "C" PRIMARY KEY,
            owner text COLLATE "C" NOT NULL,
            previous_id text COLLATE "C",
            created_at double precision NOT NULL,
            expires_at double precision NOT NULL,
            body json NOT NULL
        )""",
        "CREATE INDEX shim_responses_by_expiry ON shim_responses (expires_at)",
        """CREATE TABLE shim_items (
            response_id text COLLATE "C" NOT NULL,
            role text COLLATE "C" NOT NULL CHECK (role IN ('input', 'output')),
            position integer NOT NULL,
            item_id text COLLATE "C",
            owner text COLLATE "C" NOT NULL,
            body json NOT NULL,
            PRIMARY KEY (response_id, role, position)
        )""",
        "CREATE INDEX shim_items_by_id ON shim_items (owner, item_id)",
        """CREATE FUNCTION shim_put_response(
            p_id text, p_owner text, p_previous_id text, p_created_at double precision,
            p_expires_at double precision, p_body json, p_inputs integer, p_item_ids text[], p_items json[]
        ) RETURNS void LANGUAGE sql VOLATILE AS $$
            INSERT INTO shim_responses (id, owner, previous_id, created_at, expires_at, body)
            VALUES (p_id, p_owner, p_previous_id, p_created_at, p_expires_at, p_body)
            ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, previous_id = excluded.previous_id,
                created_at = excluded.created_at, expires_at = excluded.expires_at, body = excluded.body;
            DELETE FROM shim_items WHERE response_id = p_id;
            INSERT INTO shim_items (response_id, role, position, item_id, owner, body)
            SELECT p_id,
                   CASE WHEN t.n <= p_inputs THEN 'input' ELSE 'output' END,
                   (CASE WHEN t.n <= p_inputs THEN t.n - 1 ELSE t.n - 1 - p_inputs END)::integer,
                   t.item_id, p_owner, t.body
            FROM unnest(p_item_ids, p_items) WITH ORDINALITY AS t (item_id, body, n);
        $$""",
    ),
}

PUT = "SELECT shim_put_response($1, $2, $3, $4, $5, $6, $7, $8, $9)"

# The response and its items, as the chain query's rows (records.ChainRow; a chain of one).
GET = """
SELECT 0, id, previous_id, created_at, expires_at, body, NULL::integer
FROM shim_responses WHERE id = $1 AND owner = $2 AND expires_at > $3
UNION ALL
SELECT CASE i.role WHEN 'input' THEN 1 ELSE 2 END, i.response_id, NULL, NULL, NULL, i.body, i.position
FROM shim_responses AS r JOIN shim_items AS i ON i.response_id = r.id
WHERE r.id = $1 AND r.owner = $2 AND r.expires_at > $3
"""

# One statement: the responses reachable back through previous_id (each hop one primary-key lookup,
# stopping at a foreign, expired or missing one; UNION stops a cycle), then their rows and their items'
# (records.ChainRow, unordered: records.assemble_chain orders them). HISTORY is the same without the
# responses' bodies (records.assemble_history).
_CHAIN = """
WITH RECURSIVE chain (id, previous_id) AS (
    SELECT id, previous_id FROM shim_responses WHERE id = $1 AND owner = $2 AND expires_at > $3
    UNION
    SELECT r.id, r.previous_id FROM chain JOIN shim_responses AS r ON r.id = chain.previous_id
    WHERE r.owner = $2 AND r.expires_at > $3
)
SELECT 0, r.id, r.previous_id, r.created_at, r.expires_at, {body}, NULL::integer
FROM chain JOIN shim_responses AS r ON r.id = chain.id
UNION ALL
SELECT CASE i.role WHEN 'input' THEN 1 ELSE 2 END, i.response_id, NULL, NULL, NULL, i.body, i.position
FROM chain JOIN shim_items AS i ON i.response_id = chain.id
"""
CHAIN = _CHAIN.format(body="r.body")
HISTORY = _CHAIN.format(body="NULL::json")

ITEM = """
SELECT i.body FROM shim_items AS i JOIN shim_responses AS r ON r.id = i.response_id
WHERE i.owner = $1 AND i.item_id = $2 AND r.owner = $1 AND r.expires_at > $3
LIMIT 1
"""

# As the SQLite engine's: the response row drives a LEFT JOIN (absent response: no row; no items: one row
# with a NULL body); an ``after`` that is not among the items makes the bound NULL, an empty page.
_PAGE = """
SELECT i.body FROM shim_responses AS r LEFT JOIN shim_items AS i
    ON i.response_id = r.id AND i.role = 'input'
    AND ($4::text IS NULL OR i.position {op} (
        SELECT {edge}(position) FROM shim_items
        WHERE response_id = $1 AND role = 'input' AND item_id = $4))
WHERE r.id = $1 AND r.owner = $2 AND r.expires_at > $3
ORDER BY i.position {order}
LIMIT $5
"""
PAGE_ASCENDING = _PAGE.format(op=">", edge="min", order="ASC")
PAGE_DESCENDING = _PAGE.format(op="<", edge="max", order="DESC")

PURGE_BATCH = 1000
"""Expired responses deleted per transaction; SKIP LOCKED lets several shims purge side by side."""


class PostgresStore:
    """Stored Responses in one PostgreSQL database that any number of shims share."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        command_timeout: float = 30.0,
        query_logger: Callable[[Any], None] | None = None,
    ) -> None:
        """``url`` is a libpq URL (``postgresql://user:password@host:port/db``; ``postgres://`` too). The
        pool holds ``min_size`` to ``max_size`` connections; a statement running past ``command_timeout``
        seconds fails instead of holding a request forever. ``query_logger`` is added to every connection
        (asyncpg's ``add_query_logger``: one record per statement; for diagnostics, and tests counting
        queries)."""
        self.url = url
        self._pool_options = {"min_size": min_size, "max_size": max_size, "command_timeout": command_timeout}
        self._query_logger = query_logger
        self._pool: Any = None
        self._writer = GroupWriter(self._connect, PUT)
        self._secret = ""

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.url,
            init=self._init_connection,
            reset=_keep_session,
            server_settings=session_settings(self.url),
            **self._pool_options,
        )
        self._secret = await self._migrate()
        await self._writer.start()
        await self.purge(time.time())

    async def _init_connection(self, connection: Any) -> None:
        if self._query_logger is not None:
            connection.add_query_logger(self._query_logger)

    async def _connect(self) -> Any:
        """The writer's connection: opened as the pool opens its own."""
        connection = await asyncpg.connect(
            self.url,
            server_settings=session_settings(self.url),
            command_timeout=self._pool_options["command_timeout"],
        )
        await self._init_connection(connection)
        return connection

    async def _migrate(self) -> str:
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS shim_meta (key text PRIMARY KEY, value text NOT NULL)"
            )
            version = await connection.fetchval("SELECT value FROM shim_meta WHERE key = $1", VERSION_KEY)
            found = 0 if version is None else int(version)
            if found > SCHEMA_VERSION:
                raise SchemaTooNew(found)
            for step in range(found + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    await connection.execute(statement)
            await connection.execute(
                "INSERT INTO shim_meta (key, value) VALUES ($1, $2) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                VERSION_KEY,
                str(SCHEMA_VERSION),
            )
            await connection.execute(
                "INSERT INTO shim_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                OWNER_SECRET_KEY,
                new_secret(),
            )
            secret = await connection.fetchval("SELECT value FROM shim_meta WHERE key = $1", OWNER_SECRET_KEY)
        if found < SCHEMA_VERSION:
            log.info("Responses store: PostgreSQL schema version %d (was %d)", SCHEMA_VERSION, found)
        return str(secret)

    async def close(self) -> None:
        await self._writer.close()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def _db(self) -> Any:
        if self._pool is None:
            raise RuntimeError("the PostgreSQL store is not started")
        return self._pool

    # --- writes ----------------------------------------------------------------------------------------

    async def put(self, record: StoredResponse) -> None:
        await self._writer.write(_put_arguments(record))

    async def put_many(self, records: Sequence[StoredResponse]) -> None:
        """Write several responses (each replacing a record of the same id) in one transaction; for a bulk
        import or a benchmark's seeding."""
        await self._db.executemany(PUT, [_put_arguments(record) for record in records])

    async def delete(self, owner: str, response_id: str) -> bool:
        async with self._db.acquire() as connection, connection.transaction():
            gone = await connection.fetchval(
                "DELETE FROM shim_responses WHERE id = $1 AND owner = $2 AND expires_at > $3 RETURNING id",
                response_id,
                owner,
                time.time(),
            )
            if gone is None:
                return False
            # A statement of its own: its snapshot sees the items of a put that committed meanwhile.
            await connection.execute("DELETE FROM shim_items WHERE response_id = $1", response_id)
        return True

    async def purge(self, now: float) -> int:
        total = 0
        while True:
            async with self._db.acquire() as connection, connection.transaction():
                ids = [
                    row[0]
                    for row in await connection.fetch(
                        "SELECT id FROM shim_responses WHERE expires_at <= $1 "
                        "LIMIT $2 FOR UPDATE SKIP LOCKED",
                        now,
                        PURGE_BATCH,
                    )
                ]
                await connection.execute("DELETE FROM shim_items WHERE response_id = ANY($1::text[])", ids)
                await connection.execute("DELETE FROM shim_responses WHERE id = ANY($1::text[])", ids)
            total += len(ids)
            if len(ids) < PURGE_BATCH:
                return total

    # --- reads -----------------------------------------------------------------------------------------

    async def owner_of(self, credential: str) -> str:
        if not self._secret:
            raise RuntimeError("the PostgreSQL store is not started")
        return owner(self._secret, credential)

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        rows = await self._db.fetch(GET, response_id, owner, time.time())
        chain = assemble_chain(owner, response_id, rows)
        return None if chain is None else chain[-1]

    async def chain(self, owner: str, response_id: str) -> list[StoredResponse] | None:
        rows = await self._db.fetch(CHAIN, response_id, owner, time.time())
        return assemble_chain(owner, response_id, rows)

    async def history(self, owner: str, response_id: str) -> list[dict[str, Any]] | None:
        rows = await self._db.fetch(HISTORY, response_id, owner, time.time())
        return assemble_history(response_id, rows)

    async def item(self, owner: str, item_id: str) -> dict[str, Any] | None:
        body = await self._db.fetchval(ITEM, owner, item_id, time.time())
        return None if body is None else decode(body)

    async def input_items(
        self, owner: str, response_id: str, *, after: str | None, limit: int, descending: bool
    ) -> ItemPage | None:
        rows = await self._db.fetch(
            PAGE_DESCENDING if descending else PAGE_ASCENDING,
            response_id,
            owner,
            time.time(),
            after,
            limit + 1,
        )
        if not rows:
            return None
        items = [decode(row[0]) for row in rows if row[0] is not None]
        return ItemPage(items[:limit], len(items) > limit)


def _put_arguments(record: StoredResponse) -> tuple[Any, ...]:
    items = (*record.input_items, *record.output_items)
    return (
        record.id,
        record.owner,
        record.previous_id,
        record.created_at,
        record.expires_at,
        encode(record.response),
        len(record.input_items),
        [item_id(item) for item in items],
        [encode(item) for item in items],
    )


SESSION_DEFAULTS = {"synchronous_commit": "off"}
"""Set on every connection unless the URL's query names the setting (see the module's docstring)."""


def session_settings(url: str) -> dict[str, str]:
    """The store's session defaults the URL does not set itself; asyncpg sends the URL's own query
    parameters as server settings, and an explicit one would override the URL's."""
    named = parse_qs(urlsplit(url).query, keep_blank_values=True)
    return {name: value for name, value in SESSION_DEFAULTS.items() if name not in named}


async def _keep_session(_connection: Any) -> None:
    """The pool's reset on release: nothing to undo (the store sets no session state), so no round trip."""
