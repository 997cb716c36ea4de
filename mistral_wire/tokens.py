"""Token counts and token-sized pieces, from Mistral's own tokenizers (mistral-common, shipped offline).

Tokenizers load lazily (a tekken vocabulary takes about 0.9 s), so the server starts fast; ``warm()``
loads them ahead of the first request. Loads are single-flight: a request that needs a tokenizer the
background warm-up is still loading waits for that load instead of starting a second one.
"""

import codecs
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

from mistral_wire.contract.catalogue import Tokenizer

_LOADERS = {
    # tekken_240911 is the multimodal tekken vocabulary of the current model generations.
    "tekken": lambda: MistralTokenizer.v3(is_tekken=True, is_mm=True),
    "spm-v1": MistralTokenizer.v1,
    "spm-v3": MistralTokenizer.v3,
}


T = TypeVar("T")


def single_flight(function: Callable[[Any], T]) -> Callable[[Any], T]:
    """``functools.cache`` for one-argument loaders, safe when several threads ask at once.

    ``functools.cache`` lets two threads that miss at the same time both run the loader; here the second
    waits for the first and gets its result.
    """
    done: dict[Any, T] = {}
    locks: dict[Any, threading.Lock] = {}
    guard = threading.Lock()

    @functools.wraps(function)
    def cached(key: Any) -> T:
        try:
            return done[key]
        except KeyError:
            pass
        with guard:
            lock = locks.setdefault(key, threading.Lock())
        with lock:
            if key not in done:
                done[key] = function(key)
            return done[key]

    cached.is_loaded = done.__contains__  # type: ignore[attr-defined]
    return cached


@single_flight
def raw_tokenizer(kind: Tokenizer) -> Any:
    return _LOADERS[kind]().instruct_tokenizer.tokenizer


def warm() -> None:
    for kind in _LOADERS:
        raw_tokenizer(kind)  # type: ignore[arg-type]


def encode(text: str, kind: Tokenizer = "tekken") -> list[int]:
    return raw_tokenizer(kind).encode(text, bos=False, eos=False)


def count(text: str, kind: Tokenizer = "tekken") -> int:
    return len(encode(text, kind)) if text else 0


def pieces(text: str, kind: Tokenizer = "tekken") -> list[str]:
    """``text`` cut at token boundaries; the pieces join back to ``text`` exactly.

    A token that ends inside a multi-byte character is merged with the next one, so every piece is valid
    UTF-8, as in Mistral's streams.
    """
    if not text:
        return []
    ids = encode(text, kind)
    tokenizer = raw_tokenizer(kind)
    out: list[str] = []
    if kind == "tekken":
        decoder = codecs.getincrementaldecoder("utf-8")()
        for token in ids:
            piece = decoder.decode(tokenizer.id_to_byte_piece(token))
            if piece:
                out.append(piece)
    else:
        previous = ""
        for end in range(1, len(ids) + 1):
            decoded = tokenizer.decode(ids[:end])
            if len(decoded) > len(previous) and decoded.startswith(previous):
                out.append(decoded[len(previous) :])
                previous = decoded
    joined = "".join(out)
    if joined != text:
        # Sentencepiece normalises whitespace; fall back to pieces that rebuild the text exactly.
        return _even_split(text, len(ids))
    return out


def _even_split(text: str, parts: int) -> list[str]:
    parts = max(1, min(parts, len(text)))
    size, extra = divmod(len(text), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(text[start:end])
        start = end
    return out
