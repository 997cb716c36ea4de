"""What only the SQL engines promise: a chain in one statement on indexes, persistence, a store shared by
several shims (processes or pools), a versioned schema, and whole records after a kill -9 mid-write."""

import asyncio
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from shim.store import ResponseStore
from shim.store import postgres as pg
from shim.store import sqlite as lite
from shim.store.postgres import PostgresStore
from shim.store.records import SCHEMA_VERSION, SchemaTooNew
from shim.store.sqlite import SqliteStore
from testkit.paths import ROOT
from testkit.postgres import psql
from testkit.processes import child_env
from testkit.stored import WRITER_INPUTS, WRITER_OUTPUTS, make_record

SQL = pytest.mark.parametrize("engine", ["sqlite", "postgresql"])

StartStore = Callable[..., Awaitable[ResponseStore]]

KEY = "sk-test-key"


async def put_chain(store: ResponseStore, owner: str, turns: int, prefix: str = "resp") -> str:
    previous = None
    for turn in range(turns):
        rid = f"{prefix}_{turn}"
        await store.put(make_record(owner, rid, previous=previous))
        previous = rid
    return f"{prefix}_{turns - 1}"


def traced(engine: str, statements: list[str]) -> Any:
    """A store factory recording every SQL statement it runs (sqlite3's trace callback; asyncpg's query
    logger), a real observation of what reaches the database."""
    if engine == "sqlite":
        return lambda url: SqliteStore(url, trace=statements.append)
    return lambda url: PostgresStore(url, query_logger=lambda record: statements.append(record.query))


@SQL
async def test_a_chain_is_one_statement(engine: str, start_store: StartStore) -> None:
    statements: list[str] = []
    store = await start_store(traced(engine, statements))
    owner = await store.owner_of(KEY)
    last = await put_chain(store, owner, 30)
    await store.put(make_record(owner, "other", previous="resp_3"))  # a branch the chain must not take
    await asyncio.sleep(0.01)  # asyncpg hands records to its loggers with call_soon
    statements.clear()

    chain = await store.chain(owner, last)
    await asyncio.sleep(0.01)

    assert chain is not None and len(chain) == 30
    assert len(statements) == 1, statements
    assert statements[0].lstrip().startswith("WITH RECURSIVE")

    statements.clear()
    history = await store.history(owner, last)
    await asyncio.sleep(0.01)
    assert history is not None and len(history) == 30 * 3
    assert len(statements) == 1, statements
    # No response's own body is read: only the items' are.
    assert "r.body" not in statements[0] and "i.body" in statements[0]


def sqlite_plan(path: Path, query: str, parameters: dict[str, Any]) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + query, parameters)]


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_sqlite_reads_search_indexes_and_never_scan_a_table(store: ResponseStore) -> None:
    """Flat in the number of stored responses: every read is index lookups (SEARCH), never a table SCAN
    (only the chain's own few rows are scanned)."""
    assert isinstance(store, SqliteStore)
    owner = await store.owner_of(KEY)
    await put_chain(store, owner, 3)
    parameters = {"id": "resp_2", "owner": owner, "now": 0.0, "item": "resp_1_in0", "after": "x", "rows": 3}
    for query in (lite.CHAIN, lite.GET, lite.ITEM, lite.PAGE_ASCENDING, lite.PAGE_DESCENDING):
        plan = sqlite_plan(store.path, query, parameters)
        scans = [step for step in plan if step.startswith("SCAN") and step != "SCAN chain"]
        assert scans == [], (query, plan)
        assert any(step.startswith("SEARCH") for step in plan), plan


@pytest.mark.parametrize("engine", ["postgresql"])
async def test_postgres_reads_have_index_paths(store: ResponseStore, store_url: str) -> None:
    """With sequential scans priced out, every read still plans without one: an index path exists (on a
    few rows the planner would rightly prefer a scan; at 100k, bench/store_bench.py shows it flat)."""
    owner = await store.owner_of(KEY)
    await put_chain(store, owner, 3)
    connection = await asyncpg.connect(store_url)
    try:
        await connection.execute("SET enable_seqscan = off")
        for query, arguments in (
            (pg.CHAIN, ("resp_2", owner, 0.0)),
            (pg.GET, ("resp_2", owner, 0.0)),
            (pg.ITEM, (owner, "resp_1_in0", 0.0)),
            (pg.PAGE_ASCENDING, ("resp_2", owner, 0.0, "x", 3)),
            (pg.PAGE_DESCENDING, ("resp_2", owner, 0.0, "x", 3)),
        ):
            plan = "\n".join(row[0] for row in await connection.fetch("EXPLAIN " + query, *arguments))
            assert "Seq Scan on shim_" not in plan, plan
            assert "Index" in plan, plan
    finally:
        await connection.close()


@pytest.mark.parametrize("engine", ["sqlite"])
async def test_sqlite_data_survives_closing_and_reopening(start_store: StartStore, store_url: str) -> None:
    store = await start_store()
    owner = await store.owner_of(KEY)
    last = await put_chain(store, owner, 3)
    await store.close()

    assert Path(store_url.removeprefix("sqlite:///")).is_file()  # the missing directory was created
    reopened = await start_store()
    assert await reopened.owner_of(KEY) == owner  # the secret is kept in the file
    chain = await reopened.chain(owner, last)
    assert chain is not None and [r.id for r in chain] == ["resp_0", "resp_1", "resp_2"]


@SQL
async def test_two_shims_share_one_store(start_store: StartStore) -> None:
    """Two stores on one database (two pools, or two SQLite connections sets, as two shims): they hash a
    credential alike and see each other's writes, deletes included."""
    first, second = await asyncio.gather(start_store(), start_store())
    owner = await first.owner_of(KEY)
    assert await second.owner_of(KEY) == owner

    await first.put(make_record(owner, "resp_1"))
    await second.put(make_record(owner, "resp_2", previous="resp_1"))
    chain = await first.chain(owner, "resp_2")
    assert chain is not None and [r.id for r in chain] == ["resp_1", "resp_2"]
    assert await second.delete(owner, "resp_1")
    assert await first.get(owner, "resp_1") is None


@SQL
async def test_shims_starting_together_migrate_once(start_store: StartStore) -> None:
    """Four shims open a new store at the same moment: the schema is created once (an advisory lock, or
    SQLite's write lock), and all of them get the same owner secret."""
    stores = await asyncio.gather(*(start_store() for _ in range(4)))
    owners = {await store.owner_of(KEY) for store in stores}
    assert len(owners) == 1


def set_schema_version(engine: str, store_url: str, version: int) -> None:
    if engine == "sqlite":
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    else:
        psql(store_url, f"UPDATE shim_meta SET value = '{version}' WHERE key = 'schema_version'")


@SQL
async def test_a_store_from_a_newer_shim_is_refused(
    engine: str, start_store: StartStore, store_url: str
) -> None:
    store = await start_store()
    await store.close()
    set_schema_version(engine, store_url, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaTooNew, match=f"schema version {SCHEMA_VERSION + 1}, newer than"):
        await start_store()
    set_schema_version(engine, store_url, SCHEMA_VERSION)
    await start_store()


def kill_writer_midway(store_url: str, first: int, acks_before_kill: int) -> list[str]:
    """Run ``python -m testkit.stored`` until it acknowledged ``acks_before_kill`` writes, SIGKILL it (it
    is in the middle of its next put), and return every write it acknowledged."""
    process = subprocess.Popen(
        [sys.executable, "-m", "testkit.stored", store_url, KEY, str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=child_env(),
        text=True,
    )
    assert process.stdout is not None
    acknowledged: list[str] = []
    try:
        for line in process.stdout:
            acknowledged.append(line.split()[1])
            if len(acknowledged) >= acks_before_kill:
                break
        process.send_signal(signal.SIGKILL)
        acknowledged.extend(line.split()[1] for line in process.stdout.read().splitlines())
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    assert len(acknowledged) >= acks_before_kill
    return acknowledged


@SQL
async def test_a_writer_killed_mid_write_leaves_whole_responses(
    engine: str, start_store: StartStore, store_url: str
) -> None:
    """Three writer processes in turn, each killed with SIGKILL in the middle of writing: the store opens,
    every acknowledged response is there, and every response there is whole (all its items)."""
    acknowledged: list[str] = []
    for acks in (5, 12, 8):
        acknowledged += kill_writer_midway(store_url, len(acknowledged), acks)
        # The next writer continues from the last acknowledged response: a kill may have left one more
        # written (committed before its acknowledgement was printed), which the next writer replaces.

    store = await start_store()
    owner = await store.owner_of(KEY)
    present = [f"w{n}" for n in range(len(acknowledged) + 1) if await store.get(owner, f"w{n}") is not None]
    assert present[: len(acknowledged)] == acknowledged
    for rid in present:
        record = await store.get(owner, rid)
        assert record is not None
        inputs = [f"{rid}_in{n}" for n in range(WRITER_INPUTS)]
        outputs = [f"{rid}_out{n}" for n in range(WRITER_OUTPUTS)]
        assert [item["id"] for item in record.input_items] == inputs
        assert [item["id"] for item in record.output_items] == outputs
        assert record.response["output"] == list(record.output_items)
        page = await store.input_items(owner, rid, after=None, limit=100, descending=False)
        assert page is not None and len(page.items) == WRITER_INPUTS
    chain = await store.chain(owner, present[-1])
    assert chain is not None and [r.id for r in chain] == present
    if engine == "sqlite":
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    # Still a working store.
    await store.put(make_record(owner, "after", previous=present[-1]))
    assert await store.get(owner, "after") is not None


async def _commit_setting(url: str) -> str:
    """``synchronous_commit`` as a store's pooled connection sees it."""
    store = PostgresStore(url)
    await store.start()
    try:
        async with store._db.acquire() as connection:
            return str(await connection.fetchval("SHOW synchronous_commit"))
    finally:
        await store.close()


async def test_postgres_commits_do_not_wait_for_the_flush_unless_the_url_says_so(postgres_url: str) -> None:
    """The database's own default here is ``on`` (set on it, so this can fail): the store's connections
    turn it off, and a URL naming the setting keeps what it names."""
    database = postgres_url.rsplit("/", 1)[1]
    psql(postgres_url, f'ALTER DATABASE "{database}" SET synchronous_commit = on')
    plain = await asyncpg.connect(postgres_url)
    try:
        assert await plain.fetchval("SHOW synchronous_commit") == "on"
    finally:
        await plain.close()

    assert await _commit_setting(postgres_url) == "off"
    assert await _commit_setting(f"{postgres_url}?synchronous_commit=on") == "on"
    assert await _commit_setting(f"{postgres_url}?synchronous_commit=local") == "local"


def _put_statements(statements: list[str]) -> int:
    return sum(1 for text in statements if text.startswith("SELECT shim_put_response"))


async def test_postgres_puts_that_wait_together_are_written_together(postgres_url: str) -> None:
    """Forty puts at once: fewer statements than puts (the writer sends what queued as one), each put
    acknowledged only once its response is readable, every one of them."""
    statements: list[str] = []
    store = PostgresStore(postgres_url, query_logger=lambda record: statements.append(record.query))
    await store.start()
    try:
        owner = await store.owner_of(KEY)
        await asyncio.gather(*(store.put(make_record(owner, f"resp_{n}")) for n in range(40)))
        await asyncio.sleep(0.01)  # asyncpg hands records to its loggers with call_soon
        assert 1 <= _put_statements(statements) < 40, statements
        for n in range(40):
            found = await store.get(owner, f"resp_{n}")
            assert found is not None and len(found.input_items) == 2
    finally:
        await store.close()


async def test_postgres_a_refused_record_fails_alone_in_its_batch(postgres_url: str) -> None:
    """PostgreSQL's text refuses a NUL: that put raises, the nine sent beside it are stored."""
    store = PostgresStore(postgres_url)
    await store.start()
    try:
        owner = await store.owner_of(KEY)
        ids = [f"resp_{n}" for n in range(9)] + ["resp_\x00bad"]
        outcomes = await asyncio.gather(
            *(store.put(make_record(owner, rid)) for rid in ids), return_exceptions=True
        )
        assert all(outcome is None for outcome in outcomes[:9]), outcomes
        assert isinstance(outcomes[9], asyncpg.PostgresError), outcomes[9]
        assert all([await store.get(owner, rid) for rid in ids[:9]])
    finally:
        await store.close()


async def test_postgres_writes_go_on_after_the_server_ends_the_stores_connections(
    postgres_url: str,
) -> None:
    """An administrator (or a restart) ends every connection of the store: the next put opens another
    and is stored, and reads find it."""
    store = PostgresStore(postgres_url)
    await store.start()
    try:
        owner = await store.owner_of(KEY)
        await store.put(make_record(owner, "before"))
        database = postgres_url.rsplit("/", 1)[1]
        ended = psql(
            postgres_url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
        )
        assert int(ended) >= 2  # the writer's connection and the pool's
        await store.put(make_record(owner, "after"))
        assert await store.get(owner, "after") is not None
        assert await store.get(owner, "before") is not None
    finally:
        await store.close()
