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

ChainRow = tuple[int, str, str | None, float | None, float | None, str, int | None]
"""A row of the chain query (and of ``get``'s, a chain of one): (kind, response id, previous id, created
at, expires at, body JSON, position). Kind 0 is a response (position NULL), 1 one of its input items, 2
one of its output items (previous id and times NULL). In no particular order: sorting a few hundred rows
with their bodies in the database costs more than sorting each response's items by position here."""

RESPONSE, INPUT, OUTPUT = 0, 1, 2


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

    The hot path of ``previous_response_id`` (50 turns are a few hundred rows): one pass over the rows,
    JSON parsed only for the responses of the chain.
    """
    heads, items = _grouped(rows)
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
                input_items=_parsed(items.get((current, INPUT))),
                output_items=_parsed(items.get((current, OUTPUT))),
            )
        )
        current = previous_id
    if not chain:
        return None
    chain.reverse()
    return chain


def assemble_history(response_id: str, rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]] | None:
    """The items of the chain ending at ``response_id``, oldest response first (each one's input items,
    then its output items), from the rows of the history query: the chain query's, without the responses'
    bodies. None when ``response_id`` is not among them."""
    heads, items = _grouped(rows)
    links: list[str] = []
    current: str | None = response_id
    while current is not None and current in heads:
        links.append(current)
        current = heads.pop(current)[0]
    if not links:
        return None
    found: list[dict[str, Any]] = []
    for rid in reversed(links):
        found.extend(_parsed(items.get((rid, INPUT))))
        found.extend(_parsed(items.get((rid, OUTPUT))))
    return found


Heads = dict[str, tuple[str | None, float, float, str]]
Items = dict[tuple[str, int], list[tuple[int, str]]]


def _grouped(rows: Iterable[Sequence[Any]]) -> tuple[Heads, Items]:
    """One pass over a chain's rows: each response's (previous id, times, body), and each response's
    input and output items as (position, body), unparsed."""
    heads: Heads = {}
    items: Items = {}
    for kind, rid, previous_id, created_at, expires_at, body, position in rows:
        if kind:
            found = items.get((rid, kind))
            if found is None:
                items[rid, kind] = [(position, body)]
            else:
                found.append((position, body))
        else:
            heads[rid] = (previous_id, created_at, expires_at, body)
    return heads, items


def _parsed(rows: list[tuple[int, str]] | None) -> tuple[dict[str, Any], ...]:
    if rows is None:
        return ()
    rows.sort()  # by position (unique within a response and role, so bodies are never compared)
    return tuple([jsonio.loads(body) for _position, body in rows])
