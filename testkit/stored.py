"""Stored Responses for tests and benchmarks: records shaped like the shim's, and a writer process to kill.

``make_record`` builds a ``StoredResponse`` whose input and output items have ids derived from the
response's (``<id>_in<n>``, ``<id>_out<n>``), so a test can tell whole records from torn ones.

``python -m testkit.stored URL CREDENTIAL FIRST`` opens the store at URL and writes a chain of responses
``w<FIRST>``, ``w<FIRST+1>``... (each with ``WRITER_INPUTS`` + ``WRITER_OUTPUTS`` items) until it is
killed, printing ``ok <id>`` after each ``put`` returns: the acknowledged writes.
"""

import asyncio
import sys
import time
from typing import Any

from shim.store import StoredResponse
from shim.store.factory import open_store

WRITER_INPUTS = 40
WRITER_OUTPUTS = 10


def make_record(
    owner: str,
    rid: str,
    *,
    previous: str | None = None,
    inputs: int = 2,
    outputs: int = 1,
    ttl: float = 3600.0,
    created: float | None = None,
    note: str = "",
) -> StoredResponse:
    """A completed Response ``rid`` as the routes would store it, expiring ``ttl`` seconds after
    ``created`` (now by default); ``note`` is written into its texts and metadata."""
    created_at = time.time() if created is None else created
    input_items: list[dict[str, Any]] = [
        {
            "id": f"{rid}_in{n}",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": f"question {n} of {rid}{note}"}],
        }
        for n in range(inputs)
    ]
    output_items: list[dict[str, Any]] = [
        {
            "id": f"{rid}_out{n}",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": f"answer {n} of {rid}{note}", "annotations": []}],
        }
        for n in range(outputs)
    ]
    response = {
        "id": rid,
        "object": "response",
        "created_at": int(created_at),
        "status": "completed",
        "model": "mistral-small-latest",
        "previous_response_id": previous,
        "output": output_items,
        "metadata": {"note": note},
        "temperature": 0.7,
        "usage": {
            "input_tokens": 12,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 7,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 19,
        },
    }
    return StoredResponse(
        id=rid,
        owner=owner,
        created_at=created_at,
        expires_at=created_at + ttl,
        previous_id=previous,
        response=response,
        input_items=tuple(input_items),
        output_items=tuple(output_items),
    )


async def write_until_killed(url: str, credential: str, first: int) -> None:
    store = open_store(url)
    await store.start()
    owner = await store.owner_of(credential)
    previous = f"w{first - 1}" if first > 0 else None
    number = first
    while True:
        rid = f"w{number}"
        record = make_record(owner, rid, previous=previous, inputs=WRITER_INPUTS, outputs=WRITER_OUTPUTS)
        await store.put(record)
        sys.stdout.write(f"ok {rid}\n")
        sys.stdout.flush()
        previous, number = rid, number + 1


if __name__ == "__main__":
    asyncio.run(write_until_killed(sys.argv[1], sys.argv[2], int(sys.argv[3])))
