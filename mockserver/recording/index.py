"""Which recording answers a request, in O(1): request keys to recording files, in recorded order.

Replaying walks a key's recordings in order and then keeps answering with the last one, so a test that
asks the same question three times gets the three recorded answers. Parsed recordings are kept until their
files add up to ``CACHE_BYTES``: a CI suite's few thousand recordings are read from disk once. Safe from
several threads (the recorder saves, and so indexes, from a worker thread).
"""

import threading
from collections import OrderedDict
from pathlib import Path

from mockserver.recording import persister
from mockserver.recording.format import Recording

CACHE_BYTES = 64 * 1024 * 1024
"""Recordings stay parsed until their files add up to this much (half the CPU per answer when 1,000
recordings were kept to 256 of them)."""


class RecordingIndex:
    def __init__(self) -> None:
        self._paths: dict[str, list[Path]] = {}
        self._by_route: dict[tuple[str, str], list[Path]] = {}
        self._cursor: dict[str, int] = {}
        self._used: set[Path] = set()
        self._cache: OrderedDict[Path, Recording] = OrderedDict()
        self._sizes: dict[Path, int] = {}
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._paths.clear()
            self._by_route.clear()
            self._cursor.clear()

    def add(self, key: str, method: str, route: str, path: Path) -> None:
        """Index ``path`` as the next recording of ``key`` (callers add a key's files in recorded order)."""
        with self._lock:
            self._paths.setdefault(key, []).append(path)
            self._by_route.setdefault((method.upper(), route), []).append(path)

    def add_saved(self, key: str, recording: Recording, path: Path, size: int) -> None:
        """A recording just written: indexed, kept parsed, and counted as used."""
        self.add(key, recording.method, recording.path, path)
        with self._lock:
            self._remember(path, recording, size)
            self._used.add(path)

    def next(self, key: str) -> Path | None:
        """The next recording for ``key``: in recorded order, then the last one again."""
        with self._lock:
            paths = self._paths.get(key)
            if not paths:
                return None
            position = self._cursor.get(key, 0)
            self._cursor[key] = position + 1
            chosen = paths[min(position, len(paths) - 1)]
            self._used.add(chosen)
            return chosen

    def of_route(self, method: str, route: str) -> list[Path]:
        with self._lock:
            return list(self._by_route.get((method.upper(), route), []))

    def read(self, path: Path) -> Recording:
        """The parsed recording, from the cache or the file."""
        with self._lock:
            cached = self._cache.get(path)
            if cached is not None:
                self._cache.move_to_end(path)
                return cached
        recording, size = persister.read(path)
        with self._lock:
            self._remember(path, recording, size)
        return recording

    def _remember(self, path: Path, recording: Recording, size: int) -> None:
        """Keep ``recording`` parsed; forget the least recently used beyond ``CACHE_BYTES`` (lock held)."""
        self._cache[path] = recording
        self._cache.move_to_end(path)
        self._cached_bytes += size - self._sizes.get(path, 0)
        self._sizes[path] = size
        while self._cached_bytes > CACHE_BYTES and len(self._cache) > 1:
            forgotten, _ = self._cache.popitem(last=False)
            self._cached_bytes -= self._sizes.pop(forgotten, 0)

    def paths(self) -> list[Path]:
        with self._lock:
            return [p for paths in self._paths.values() for p in paths]

    def used(self) -> set[Path]:
        with self._lock:
            return set(self._used)

    def requests(self) -> int:
        """How many distinct requests the recordings answer."""
        with self._lock:
            return len(self._paths)

    def cached(self) -> list[Path]:
        """The recordings kept parsed, least recently used first."""
        with self._lock:
            return list(self._cache)

    def cached_bytes(self) -> int:
        with self._lock:
            return self._cached_bytes

    def __len__(self) -> int:
        with self._lock:
            return sum(len(paths) for paths in self._paths.values())
