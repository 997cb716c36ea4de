"""A bounded least-recently-used map, for answers worth computing once: verdicts and synthetic answers.

It holds values only (a verdict, a computed answer, a rendered refusal), never an exception object: an
exception raised again from a cache grows its traceback at every raise, and keeps every frame and request
it ever passed through alive (2,000 repeats of one bad body kept 6,000 frames, before this).
"""

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
