"""Token counts and token-sized pieces, from Mistral's own tokenizers (mistral-common, shipped offline).

A tekken vocabulary takes about 0.7-0.9 s to load, on the CPU: done on the event loop, it would stall every
stream in flight. So nothing here loads at import (not even mistral-common), servers start the loads in a
thread at startup (``warm_in_background``), and a request that needs a tokenizer awaits ``ready(kind)``,
which waits for that load in a thread rather than on the loop. The counting functions themselves are
synchronous, for code that runs after ``ready``. Loads are single-flight: a request that needs a tokenizer
the warm-up is still loading waits for that load instead of starting a second one.
"""

import asyncio
import codecs
import functools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_args

from mistral_wire.contract.catalogue import Tokenizer

if TYPE_CHECKING:  # mistral-common is imported when a tokenizer is first loaded, never at import
    from mistral_common.tokens.tokenizers.base import Tokenizer as TextTokenizer
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

KINDS: tuple[Tokenizer, ...] = get_args(Tokenizer)


def _load(kind: Tokenizer) -> "MistralTokenizer[Any, Any, Any, Any, Any]":
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    if kind == "tekken":  # tekken_240911, the multimodal vocabulary of the current model generations
        return MistralTokenizer.v3(is_tekken=True, is_mm=True)
    return MistralTokenizer.v1() if kind == "spm-v1" else MistralTokenizer.v3()


K = TypeVar("K")
T = TypeVar("T")


class single_flight(Generic[K, T]):  # lower case: used as a decorator, like functools.cache
    """``functools.cache`` for one-argument loaders, safe when several threads ask at once.

    ``functools.cache`` lets two threads that miss at the same time both run the loader; here the second
    waits for the first and gets its result.
    """

    def __init__(self, function: Callable[[K], T]) -> None:
        functools.update_wrapper(self, function)
        self._function = function
        self._done: dict[K, T] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, key: K) -> T:
        try:
            return self._done[key]
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._done:
                self._done[key] = self._function(key)
            return self._done[key]

    def is_loaded(self, key: K) -> bool:
        return key in self._done


@single_flight
def raw_tokenizer(kind: Tokenizer) -> "TextTokenizer":
    return _load(kind).instruct_tokenizer.tokenizer


def is_loaded(kind: Tokenizer) -> bool:
    return raw_tokenizer.is_loaded(kind)


def warm(kinds: Iterable[Tokenizer] = KINDS) -> None:
    for kind in kinds:
        raw_tokenizer(kind)


def warm_in_background(kinds: Iterable[Tokenizer] = KINDS) -> "Future[None]":
    """Start loading ``kinds`` in a daemon thread; the future completes when all are loaded."""
    done: Future[None] = Future()
    wanted = tuple(kinds)

    def load() -> None:
        try:
            warm(wanted)
        except BaseException as exc:  # reported through the future, never as a thread traceback
            done.set_exception(exc)
        else:
            done.set_result(None)

    threading.Thread(target=load, name="tokenizer-warm-up", daemon=True).start()
    return done


async def ready(kind: Tokenizer) -> None:
    """Return once ``kind`` is loaded, waiting in a thread (never on the event loop) when it is not."""
    if not is_loaded(kind):
        await asyncio.to_thread(raw_tokenizer, kind)


def encode(text: str, kind: Tokenizer = "tekken") -> list[int]:
    return raw_tokenizer(kind).encode(text, bos=False, eos=False)


def token_text(token: int, kind: Tokenizer = "tekken") -> str:
    """One token as text (a token inside a multi-byte character decodes with replacement characters)."""
    return str(raw_tokenizer(kind).decode([token]))


def ordinary_tokens(kind: Tokenizer = "tekken") -> range:
    """The ids of the vocabulary's ordinary tokens (the control tokens come first)."""
    tokenizer = raw_tokenizer(kind)
    first = int(getattr(tokenizer, "num_special_tokens", 0))
    return range(first, int(tokenizer.n_words))


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
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer  # loaded with the tokenizer, just above

    out: list[str] = []
    if isinstance(tokenizer, Tekkenizer):  # the tekken kind; the others are sentencepiece
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
