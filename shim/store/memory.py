"""``memory://``: the Responses store in this process's memory, for throwaway use and tests.

Nothing survives a restart, and two shims share nothing; the SQLite default does both.
"""

import time
from dataclasses import replace
from typing import Any

from shim.store import ItemPage, StoredResponse
from shim.store.owners import new_secret, owner


class MemoryStore:
    def __init__(self) -> None:
        self._secret = new_secret()
        self._responses: dict[str, StoredResponse] = {}

    async def start(self) -> None:
        await self.purge(time.time())

    async def close(self) -> None:
        self._responses.clear()

    async def owner_of(self, credential: str) -> str:
        return owner(self._secret, credential)

    def _live(self, owner_hash: str, response_id: str) -> StoredResponse | None:
        found = self._responses.get(response_id)
        if found is None or found.owner != owner_hash or found.expires_at <= time.time():
            return None
        return found

    async def put(self, record: StoredResponse) -> None:
        self._responses[record.id] = replace(
            record, input_items=tuple(record.input_items), output_items=tuple(record.output_items)
        )

    async def get(self, owner: str, response_id: str) -> StoredResponse | None:
        return self._live(owner, response_id)

    async def chain(self, owner: str, response_id: str) -> list[StoredResponse] | None:
        found = self._live(owner, response_id)
        if found is None:
            return None
        chain = [found]
        seen = {found.id}
        while chain[-1].previous_id is not None and chain[-1].previous_id not in seen:
            previous = self._live(owner, chain[-1].previous_id)
            if previous is None:
                break
            seen.add(previous.id)
            chain.append(previous)
        return chain[::-1]

    async def history(self, owner: str, response_id: str) -> list[dict[str, Any]] | None:
        chain = await self.chain(owner, response_id)
        if chain is None:
            return None
        return [item for record in chain for item in (*record.input_items, *record.output_items)]

    async def item(self, owner: str, item_id: str) -> dict[str, Any] | None:
        for record in self._responses.values():
            if self._live(owner, record.id) is None:
                continue
            for item in (*record.input_items, *record.output_items):
                if item.get("id") == item_id:
                    return item
        return None

    async def input_items(
        self, owner: str, response_id: str, *, after: str | None, limit: int, descending: bool
    ) -> ItemPage | None:
        found = self._live(owner, response_id)
        if found is None:
            return None
        items = list(found.input_items)
        if descending:
            items.reverse()
        if after is not None:
            ids = [item.get("id") for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        return ItemPage(items[:limit], len(items) > limit)

    async def delete(self, owner: str, response_id: str) -> bool:
        if self._live(owner, response_id) is None:
            return False
        del self._responses[response_id]
        return True

    async def purge(self, now: float) -> int:
        expired = [key for key, record in self._responses.items() if record.expires_at <= now]
        for key in expired:
            del self._responses[key]
        return len(expired)
