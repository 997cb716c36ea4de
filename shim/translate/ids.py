"""Tool-call ids: OpenAI's (``call_…``, any length) to Mistral's nine alphanumerics.

Mistral refuses any ``tool_calls[].id`` or ``tool_call_id`` that is not ``^[a-zA-Z0-9]{9}$`` (HTTP 400, code
3280), while OpenAI clients replay ids such as ``call_PTLP8xhu3uwZk4l3nlnrrJha``. The shim keeps no state
between requests, so the mapping must be a pure function of the conversation: an id is hashed (SHA-256) to
nine base-62 characters, and every request that replays the same history maps it the same way. Ids that
already have Mistral's shape (every id Mistral itself generated) are kept, so answers need no reverse map.
"""

import hashlib
from collections.abc import Iterable

from mistral_wire.contract.messages import TOOL_CALL_ID

ID_LENGTH = 9
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SPACE = len(_ALPHABET) ** ID_LENGTH


def is_mistral_id(value: object) -> bool:
    """Whether ``value`` is already an id Mistral accepts (and so is sent unchanged)."""
    return isinstance(value, str) and TOOL_CALL_ID.fullmatch(value) is not None


def derive_id(original: str, attempt: int = 0) -> str:
    """The ``attempt``-th candidate id for ``original``: nine base-62 characters from its SHA-256.

    Attempt 0 hashes the original alone; later attempts (only needed on a collision) hash it with the
    attempt number, so the sequence of candidates is as deterministic as the first one.
    """
    seed = original if attempt == 0 else f"{original}\x00{attempt}"
    number = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big") % _SPACE
    chars = []
    for _ in range(ID_LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def map_ids(originals: Iterable[str]) -> dict[str, str]:
    """One collision-free mapping for every id of a conversation, in order of first appearance.

    Ids of Mistral's shape map to themselves and are reserved first, so a derived id never equals an id
    the conversation already holds. Every other id takes its first candidate not yet used; two different
    originals therefore never share an id, and the same original always gets the same one, wherever it
    appears (``tool_calls[].id`` and ``tool_call_id`` alike).
    """
    ordered = list(dict.fromkeys(originals))
    mapping = {original: original for original in ordered if is_mistral_id(original)}
    used = set(mapping.values())
    for original in ordered:
        if original in mapping:
            continue
        attempt = 0
        candidate = derive_id(original)
        while candidate in used:
            attempt += 1
            candidate = derive_id(original, attempt)
        mapping[original] = candidate
        used.add(candidate)
    return mapping
