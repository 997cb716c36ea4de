"""The ids of the Responses API: ``resp_…`` for a response, ``msg_``/``fc_``/``fco_``/``rs_`` for its items.

A response id is random (it names a stored record; guessing one must be hopeless). Item ids are derived
from the response id and the item's place, so the JSON answer and the stream of the same response give every
item the same id, and a test can predict them: the streamed ``output_item.added`` of output 1 and the
stored output item 1 agree without either having to remember the other.
"""

import hashlib
import secrets
from typing import Final

PREFIXES: Final[dict[str, str]] = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "reasoning": "rs",
}
"""The id prefix of each item type, as OpenAI names its own."""

_HEX = 48  # as long as OpenAI's own ids (``resp_`` + 48 hex digits)


def new_response_id() -> str:
    return "resp_" + secrets.token_hex(_HEX // 2)


def item_id(kind: str, response_id: str, side: str, index: int) -> str:
    """The id of item ``index`` of a response's ``side`` ("input" or "output"), of type ``kind``."""
    digest = hashlib.sha256(f"{response_id}:{side}:{index}".encode()).hexdigest()[:_HEX]
    return f"{PREFIXES.get(kind, 'item')}_{digest}"
