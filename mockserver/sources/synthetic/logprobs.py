"""Synthetic log probabilities in Mistral's shape: one entry per token of the text, deterministic per request.

Mistral answers ``logprobs: true`` with ``choices[].logprobs.content``, a list of ``{token, logprob, bytes,
token_id, top_logprobs}`` (mistralai 3.7's ``ChatCompletionResponseTokenLogprobsTopK``), in plain answers
and in every stream chunk that carries text; ``prompt_logprobs: true`` likewise for the prompt. The entries
here are the answer's own token-sized pieces, as Mistral's tokenizer for the model cut them, so their
``token`` strings join back into the text exactly (a token that ends inside a multi-byte character is one
piece with the next, as in the streams). Each ``logprob`` is at most 0; ``top_logprobs`` has exactly the
length asked for, most likely first, the chosen token among them; everything follows from the seed.
"""

import random
from collections.abc import Sequence
from typing import Any

from mistral_wire import tokens
from mistral_wire.contract.catalogue import Tokenizer

Entry = dict[str, Any]


def _logprob(rng: random.Random) -> float:
    """A plausible log probability: usually near 0 (the model was sure), sometimes well below."""
    return -round(rng.expovariate(3.0), 6)


def _alternatives(
    chosen: str, logprob: float, count: int, rng: random.Random, kind: Tokenizer
) -> list[Entry]:
    """``count`` candidates, most likely first: the chosen token, then others less likely than it."""
    out: list[Entry] = [{"token": chosen, "logprob": logprob, "bytes": list(chosen.encode()), "token_id": 0}]
    pool = tokens.ordinary_tokens(kind)
    seen = {chosen}
    level = logprob
    while len(out) < count:
        token_id = pool[rng.randrange(len(pool))]
        text = tokens.token_text(token_id, kind)
        if not text or text in seen or "\ufffd" in text:
            continue
        seen.add(text)
        level = round(level - rng.uniform(0.2, 2.5), 6)
        out.append({"token": text, "logprob": level, "bytes": list(text.encode()), "token_id": token_id})
    return out[:count]


def entries(
    pieces: Sequence[str], seed: int, kind: Tokenizer, top: int | None, *, given: int = 0
) -> list[Entry]:
    """The logprob entries of ``pieces``, in order. The first ``given`` pieces (a prefix the client wrote)
    were not sampled: their log probability is 0."""
    rng = random.Random(seed)
    out: list[Entry] = []
    for position, piece in enumerate(pieces):
        ids = tokens.encode(piece, kind)
        token_id = ids[-1] if ids else 0
        logprob = 0.0 if position < given else _logprob(rng)
        entry: Entry = {
            "token": piece,
            "logprob": logprob,
            "bytes": list(piece.encode()),
            "token_id": token_id,
        }
        if top is not None:
            alternatives = _alternatives(piece, logprob, top, rng, kind)
            if alternatives:
                alternatives[0]["token_id"] = token_id
            entry["top_logprobs"] = alternatives
        out.append(entry)
    return out


def block(content: list[Entry]) -> dict[str, Any]:
    """A choice's ``logprobs`` (or ``prompt_logprobs``) object."""
    return {"content": content}
