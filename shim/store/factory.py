"""The store a URL names: ``sqlite:///PATH``, ``postgresql://...`` (or ``postgres://``) or ``memory://``.

The SQL engines are imported only when their URL is opened: importing the shim loads neither sqlite3
nor asyncpg (tests/shim/test_imports.py), and asyncpg, an optional extra, may not be installed at all.
"""

from mistral_wire import scrub
from mistral_wire.scrub import shown_url, url_password
from shim.store import ResponseStore
from shim.store.memory import MemoryStore

POSTGRES_EXTRA = "pip install 'mistral-compat[postgres]'"


class StoreURLError(ValueError):
    """A store URL the shim cannot open (an unknown kind, or an engine not installed); the message says
    what to do, in one line."""


class StoreUnavailable(RuntimeError):
    """The store could not be started (a database that refuses the connection, a folder that cannot be
    made, a schema written by a newer shim): one line naming the URL (its password hidden) and the cause."""


async def start(store: ResponseStore, url: str) -> None:
    """``store.start()``, or ``StoreUnavailable`` saying which store and why, in one line."""
    try:
        await store.start()
    except Exception as error:
        cause = scrub.text(
            " ".join(f"{error.__class__.__name__}: {error}".split()), [url_password(url) or ""]
        )
        raise StoreUnavailable(
            f"the responses store {shown_url(url)} could not be opened ({cause}); "
            "check --responses-store (SHIM_RESPONSES_STORE)"
        ) from error


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
    raise StoreURLError(
        f"unknown store URL {shown_url(url)!r}: use sqlite:///PATH, postgresql://... or memory://"
    )
