"""The store a URL names: ``sqlite:///PATH``, ``postgresql://...`` or ``memory://``."""

from shim.store import ResponseStore
from shim.store.memory import MemoryStore


class StoreURLError(ValueError):
    """A store URL of no known kind; the message says what is accepted."""


def open_store(url: str) -> ResponseStore:
    """The (not yet started) store for ``url``."""
    scheme = url.split(":", 1)[0]
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        # STAND-IN until the SQLite engine lands (branch store-engines): the default URL must open for the
        # shim to start at all. Replaced by the real engine when that branch is merged.
        return MemoryStore()
    raise StoreURLError(f"unknown store URL {url!r}: use sqlite:///PATH, postgresql://... or memory://")
