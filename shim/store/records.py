"""What the SQL engines share: a stored response as rows, and the rows of a chain back as records.

SQLite and PostgreSQL store the same two tables (a response row, and one row per item) and read a chain
with the same one query shape, so the translation between rows and ``StoredResponse`` lives here once.
JSON goes through ``mistral_wire.jsonio`` (orjson): a 50-turn chain is a few hundred bodies to parse.
"""

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from mistral_wire import jsonio
from shim.store import StoredResponse

SCHEMA_VERSION = 1
"""The schema both SQL engines create; a store written by a newer shim is refused, never downgraded."""

OWNER_SECRET_KEY = "owner_secret"
VERSION_KEY = "schema_version"

ItemRow = tuple[str, Literal["input", "output"], int, str | None, str, str]
"""(response id, role, position, item id, owner, body JSON): one row of the items table."""

ChainRow = tuple[int, str, str | None, float | None, float | None, str, str | None, int | None]
"""(kind: 0 response 1 item, response id, previous id, created at, expires at, body JSON, role, position)
from the chain query (and ``get``'s, a chain of one): responses first, then items by role and position."""


class SchemaTooNew(RuntimeError):
    """The store was written by a newer shim (a higher schema version) than this one understands."""

    def __init__(self, found: int) -> None:
        super().__init__(
            f"the Responses store has schema version {found}, newer than this shim's {SCHEMA_VERSION}: "
            "upgrade the shim, or point --responses-store at another store"
        )


def encode(value: Any) -> str:
    return jsonio.dumps(value).decode()


def decode(body: str) -> dict[str, Any]:
    value: dict[str, Any] = jsonio.loads(body)
    return value


def item_id(item: dict[str, Any]) -> str | None:
    """The id ``item()`` finds an item by: its ``id`` when that is a string (as the memory engine)."""
    found = item.get("id")
    return found if isinstance(found, str) else None


def item_rows(record: StoredResponse) -> list[ItemRow]:
    rows: list[ItemRow] = [
        (record.id, "input", position, item_id(item), record.owner, encode(item))
        for position, item in enumerate(record.input_items)
    ]
    rows.extend(
        (record.id, "output", position, item_id(item), record.owner, encode(item))
        for position, item in enumerate(record.output_items)
    )
    return rows


def assemble_chain(
    owner: str, response_id: str, rows: Iterable[Sequence[Any]]
) -> list[StoredResponse] | None:
    """The chain ending at ``response_id``, oldest first, from the rows of the chain query (None when
    ``response_id`` is not among them).

    The query returns the set of responses reachable through ``previous_id`` (its recursive part stops on
    a foreign, expired or absent response, and its UNION stops on a cycle); the order is the walk back
    from ``response_id``, done here, which also stops on a cycle the data should never hold.
    """
    heads: dict[str, tuple[str | None, float, float, str]] = {}
    inputs: dict[str, list[dict[str, Any]]] = {}
    outputs: dict[str, list[dict[str, Any]]] = {}
    for kind, rid, previous_id, created_at, expires_at, body, role, _position in rows:
        if kind == 0:
            heads[rid] = (previous_id, created_at, expires_at, body)
        else:
            (inputs if role == "input" else outputs).setdefault(rid, []).append(jsonio.loads(body))
    chain: list[StoredResponse] = []
    current: str | None = response_id
    while current is not None and current in heads:
        previous_id, created_at, expires_at, body = heads.pop(current)
        chain.append(
            StoredResponse(
                id=current,
                owner=owner,
                created_at=created_at,
                expires_at=expires_at,
                previous_id=previous_id,
                response=jsonio.loads(body),
                input_items=tuple(inputs.get(current, ())),
                output_items=tuple(outputs.get(current, ())),
            )
        )
        current = previous_id
    if not chain:
        return None
    chain.reverse()
    return chain
