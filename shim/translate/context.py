"""What a request translation decides that its response translation must know, and the options for both."""

from dataclasses import dataclass, field
from typing import Any, Literal

Unsupported = Literal["drop", "error"]


@dataclass(frozen=True)
class Options:
    """Settings that change how requests are translated (from flags or the config file)."""

    # OpenAI-only parameters: dropped and named in x-shim-dropped-params, or refused with a 400.
    unsupported: Unsupported = "drop"
    # Model aliases, e.g. {"gpt-4o-mini": "mistral-small-latest"}.
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatContext:
    """Facts about the original OpenAI request that shape the answer sent back."""

    # stream_options.include_usage: send usage as OpenAI's final ``choices: []`` chunk.
    include_usage: bool = False
    # The request used legacy ``functions``: answer with ``function_call`` instead of ``tool_calls``.
    legacy_functions: bool = False


@dataclass(frozen=True)
class Translated:
    """A chat request ready for Mistral."""

    body: dict[str, Any]
    # OpenAI parameters removed because Mistral has no equivalent (for the x-shim-dropped-params header).
    dropped: tuple[str, ...] = ()
    context: ChatContext = field(default_factory=ChatContext)
    # Names of the repairs made to the conversation (for the x-shim-repairs header).
    repairs: tuple[str, ...] = ()
