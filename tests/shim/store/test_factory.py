"""``open_store``: one URL setting chooses the engine, and a wrong one fails in one line saying what to do."""

import sys
from pathlib import Path

import pytest

from shim.store.factory import StoreURLError, open_store
from shim.store.memory import MemoryStore
from shim.store.postgres import PostgresStore
from shim.store.sqlite import SqliteStore


def test_each_scheme_opens_its_engine(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    store = open_store(f"sqlite:///{tmp_path}/responses.sqlite3")
    assert isinstance(store, SqliteStore) and store.path == tmp_path / "responses.sqlite3"
    assert isinstance(open_store("postgresql://shim@db.internal:5432/shim"), PostgresStore)
    assert isinstance(open_store("postgres://shim@db.internal/shim"), PostgresStore)


def test_sqlite_paths_are_spelled_as_sqlalchemy_spells_them() -> None:
    relative = open_store("sqlite:///data/responses.sqlite3")
    absolute = open_store("sqlite:////var/lib/shim/responses.sqlite3")
    assert isinstance(relative, SqliteStore) and relative.path == Path("data/responses.sqlite3")
    assert isinstance(absolute, SqliteStore) and absolute.path == Path("/var/lib/shim/responses.sqlite3")


@pytest.mark.parametrize(
    "url", ["redis://localhost", "mysql://x/y", "responses.db", "sqlite://", "sqlite:///"]
)
def test_a_url_of_no_known_kind_is_refused(url: str) -> None:
    with pytest.raises(StoreURLError, match="sqlite:///PATH") as refused:
        open_store(url)
    assert "\n" not in str(refused.value)


def test_postgresql_without_asyncpg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shim installed without the ``postgres`` extra: asyncpg cannot be imported (None in sys.modules is
    how Python spells that), and the error says what to install."""
    monkeypatch.setitem(sys.modules, "asyncpg", None)
    monkeypatch.delitem(sys.modules, "shim.store.postgres")
    with pytest.raises(StoreURLError) as refused:
        open_store("postgresql://shim@db/shim")
    assert str(refused.value) == (
        "a postgresql:// store needs asyncpg, which is not installed: pip install 'mistral-compat[postgres]'"
    )
