"""Everything random in a synthetic answer derives from the request, so the same request gets the same answer.

Fields that only decide how much of the answer is sent, or how (``stream``, ``stream_options``, ``stop``,
``max_tokens``, ``n``), are left out of the seed: a streamed answer says what the non-streamed one says,
an answer cut by ``max_tokens`` or ``stop`` is a prefix of the full one, and choice 0 of ``n=3`` is the
answer of ``n=1``, as with a seeded real model.
"""

import hashlib
import json
import string
from collections.abc import Iterator
from typing import Any

_ALNUM = string.ascii_letters + string.digits
_NOT_CONTENT = frozenset({"stream", "stream_options", "stop", "max_tokens", "n"})


def canonical(payload: Any) -> bytes:
    """JSON with sorted keys: key order and whitespace do not change the seed."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_seed(endpoint: str, payload: Any) -> int:
    if isinstance(payload, dict):
        payload = {k: v for k, v in payload.items() if k not in _NOT_CONTENT}
    digest = hashlib.sha256(endpoint.encode() + b"\0" + canonical(payload)).digest()
    return int.from_bytes(digest[:8], "big")


def derive(seed: int, *salt: object) -> int:
    digest = hashlib.sha256(f"{seed}:{salt!r}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


_MASK = (1 << 64) - 1


def numbers(seed: int) -> Iterator[int]:
    """An endless splitmix64 sequence: seeding ``random.Random`` costs more than a short answer."""
    state = seed & _MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & _MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        yield z ^ (z >> 31)


def hex_id(seed: int) -> str:
    """32 lowercase hex characters, like every Mistral completion and embedding id."""
    return hashlib.sha256(f"id:{seed}".encode()).hexdigest()[:32]


def tool_call_id(seed: int, index: int) -> str:
    """Nine letters and digits, the only tool-call id shape Mistral produces and accepts."""
    number = derive(seed, "tool_call", index)
    chars = []
    for _ in range(9):
        number, rest = divmod(number, len(_ALNUM))
        chars.append(_ALNUM[rest])
    return "".join(chars)
