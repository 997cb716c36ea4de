"""The store a URL names: ``sqlite:///PATH``, ``postgresql://...`` (or ``postgres://``) or ``memory://``.

The SQL engines are imported only when their URL is opened: importing the shim loads neither aiosqlite
nor asyncpg (tests/shim/test_imports.py), and asyncpg, an optional extra, may not be installed at all.
"""

from shim.store import ResponseStore
from shim.store.memory import MemoryStore

POSTGRES_EXTRA = "pip install 'mistral-compat[postgres]'"


class StoreURLError(ValueError):
    """A store URL the shim cannot open (an unknown kind, or an engine not installed); the message says
    what to do, in one line."""


def open_store(url: str) -> ResponseStore:
    """The (not yet started) store for ``url``."""
    scheme = url.split(":", 1)[0]
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        from shim.store.sqlite import PREFIX, SqliteStore

        if not url.startswith(PREFIX) or url == PREFIX:
            raise StoreURLError(f"a SQLite store URL is sqlite:///PATH (sqlite:////abs/path), not {url!r}")
        return SqliteStore(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from shim.store.postgres import PostgresStore
        except ModuleNotFoundError as missing:
            if missing.name != "asyncpg":
                raise
            raise StoreURLError(
                f"a postgresql:// store needs asyncpg, which is not installed: {POSTGRES_EXTRA}"
            ) from None
        return PostgresStore(url)
    raise StoreURLError(f"unknown store URL {url!r}: use sqlite:///PATH, postgresql://... or memory://")
