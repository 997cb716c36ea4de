"""The shim's only state: stored Responses, behind one interface with three engines.

OpenAI's Responses API keeps what it answered (``store`` defaults to true) so a client can retrieve it,
delete it, list its input items, and continue it with ``previous_response_id``. The shim keeps the same in
a ``ResponseStore``, chosen by one URL setting (``--responses-store``): ``sqlite:///PATH`` (the embedded
default, a file that survives restarts), ``postgresql://...`` (for several shims behind a load balancer)
or ``memory://`` (throwaway). Every record is scoped to the credential that wrote it, by a keyed hash
(``owner``), never the key itself: another credential finds nothing, as if the response did not exist.

A response is written whole or not at all, with its items; the chain behind a ``previous_response_id`` is
read in one query, oldest first, whatever the number of responses stored.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ItemRole = Literal["input", "output"]


@dataclass(frozen=True)
class StoredResponse:
    """One stored Response: the object as answered, and the items it was made from and made."""

    id: str
    owner: str
    created_at: float
    expires_at: float
    previous_id: str | None
    # The Response object as the client got it (status, output, usage, metadata...).
    response: dict[str, Any]
    # This request's own input items, each with an ``id`` (assigned when the client sent none).
    input_items: Sequence[dict[str, Any]] = field(default_factory=tuple)
    # The response's output items (also inside ``response["output"]``), with their ids.
    output_items: Sequence[dict[str, Any]] = field(default_factory=tuple)


@dataclass(frozen=True)
class ItemPage:
    """One page of a response's input items, in the order asked for."""

    items: Sequence[dict[str, Any]]
    has_more: bool


class ResponseStore(Protocol):
    """What the Responses routes need from a store. Every method is scoped to ``owner``: a record another
    owner wrote, a deleted one and an expired one are all simply absent."""

    async def start(self) -> None:
        """Connect, create or migrate the schema, purge what expired."""
        ...

    async def close(self) -> None: ...

    async def put(self, record: StoredResponse) -> None:
        """Write a response and its items in one transaction (replacing a record of the same id)."""
        ...

    async def get(self, owner: str, response_id: str) -> StoredResponse | None: ...

    async def chain(self, owner: str, response_id: str) -> list[StoredResponse] | None:
        """The response and every one before it through ``previous_id``, oldest first; None when the
        response itself is absent. One query."""
        ...

    async def history(self, owner: str, response_id: str) -> list[dict[str, Any]] | None:
        """The items of ``chain()``, oldest response first, each response's input items then its output
        items; None when the response itself is absent. What ``previous_response_id`` needs: one query,
        which reads no response's own body (a Response object repeats its tools and instructions at every
        turn, and parsing fifty of them was half of a 50-turn expansion)."""
        ...

    async def item(self, owner: str, item_id: str) -> dict[str, Any] | None:
        """An input or output item of any of the owner's responses, by its id (``item_reference``)."""
        ...

    async def input_items(
        self, owner: str, response_id: str, *, after: str | None, limit: int, descending: bool
    ) -> ItemPage | None:
        """A page of the response's own input items; None when the response is absent."""
        ...

    async def delete(self, owner: str, response_id: str) -> bool:
        """Remove a response and its items; False when it was absent."""
        ...

    async def purge(self, now: float) -> int:
        """Remove every response that expired before ``now``; how many went."""
        ...

    async def owner_of(self, credential: str) -> str:
        """The keyed hash that stands for ``credential`` in this store (the same for every shim sharing
        it, never the credential itself)."""
        ...
