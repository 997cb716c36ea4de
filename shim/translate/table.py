"""The vocabulary of the parameter tables: a field's fate, and the conversions several endpoints share.

Each endpoint's translator (``params`` for chat, ``completions``, ``embeddings``) holds one table with a row
per OpenAI request field. A row says what happens to the field on its way to Mistral and why, so a reviewer
reads every field's fate in one screen and adding a field is adding a row.
"""

from dataclasses import dataclass
from typing import Any, Literal

from shim.translate.context import Options
from shim.translate.problem import OpenAIError

Action = Literal["keep", "rename", "convert", "drop", "reject"]
"""keep: sent as is. rename: sent under Mistral's name. convert: rewritten (see the row's reason).
drop: Mistral has no equivalent; removed and named, or refused under ``--unsupported error``.
reject: cannot be honoured and cannot be ignored either; always a 400."""

MAX_TEMPERATURE = 1.5
"""Mistral's ceiling (OpenAI allows 2). Higher values are clamped: both mean "as random as allowed"."""

SEED_MASK = 0xFFFFFFFF
"""OpenAI seeds are signed 64-bit; Mistral's ``random_seed`` must be >= 0. A negative seed keeps its low
32 bits (two's complement), so -1 becomes 4294967295: deterministic, and distinct seeds in the usual
32-bit range stay distinct."""

MIN_TOP_P = 1e-9
"""Mistral wants ``top_p`` > 0; OpenAI's ``top_p: 0`` means "only the most likely token", which a tiny
positive nucleus also means."""


@dataclass(frozen=True)
class Row:
    """The fate of one OpenAI request field."""

    action: Action
    reason: str
    target: str | None = None  # the Mistral field a renamed or converted field becomes
    # OpenAI's defaults: sending one changes nothing, so it is removed silently, never named or refused.
    # (An explicit null is always treated as absent.)
    harmless: tuple[Any, ...] = ()

    def is_harmless(self, value: Any) -> bool:
        return any(value == default and type(value) is type(default) for default in self.harmless)


def refuse(message: str, param: str | None, code: str | None = None) -> OpenAIError:
    """OpenAI's 400 for a request the shim cannot send."""
    return OpenAIError(400, message, param=param, code=code)


def unsupported(key: str, reason: str, endpoint: str, options: Options, dropped: list[str]) -> None:
    """Drop ``key`` and name it (in ``x-shim-dropped-params``), or refuse it under ``--unsupported error``."""
    if options.unsupported == "error":
        message = f"{key} is not supported by Mistral's {endpoint} endpoint: {reason}."
        raise refuse(message, key, "unsupported_parameter")
    dropped.append(key)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def temperature(value: Any) -> Any:
    """OpenAI's temperature in Mistral's range; a value of the wrong type is left for Mistral to refuse."""
    return min(value, MAX_TEMPERATURE) if is_number(value) else value


def top_p(value: Any) -> Any:
    return MIN_TOP_P if is_number(value) and value == 0 else value


def random_seed(value: Any) -> int:
    """Mistral's ``random_seed`` for OpenAI's ``seed`` (see ``SEED_MASK``)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise refuse("seed must be an integer.", "seed", "invalid_type")
    return value & SEED_MASK if value < 0 else value
