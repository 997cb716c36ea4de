"""The four request shapes every path is measured with, built once so each path gets the same bytes.

The mock answers identical bodies from a small cache, so the mock stays cheap and what differs between
paths is the hop in front of it. The synthetic answers are short (at most about 70 tokens) whatever
``max_tokens`` says, so the "large" workload is large on the way in: a long conversation to parse,
translate and forward.
"""

import json
from dataclasses import dataclass
from typing import Any

CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
# The mock paces every stream at one event per STREAM_GAP_MS (started with --chunk-ms): a live stream
# is paced by the model, and a relay that holds chunks back shows only on a paced stream.
STREAM_GAP_MS = 5


@dataclass(frozen=True)
class Workload:
    """One request shape: where it goes, its body (encoded once), whether the answer streams."""

    name: str
    title: str
    route: str
    body: bytes
    stream: bool


def _large_conversation(turns: int = 32, sentence_repeats: int = 36) -> list[dict[str, Any]]:
    """About 50 KB of alternating user and assistant turns, then a question."""
    text = "The quick brown fox jumps over the lazy dog. " * sentence_repeats
    messages: list[dict[str, Any]] = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"{text}({i})"} for i in range(turns)
    ]
    messages.append({"role": "user", "content": "Summarise the conversation so far."})
    return messages


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


SMALL = Workload(
    "small",
    "small chat",
    CHAT,
    _encode(
        {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 16}
    ),
    False,
)
LARGE = Workload(
    "large",
    "large chat (50 KB prompt)",
    CHAT,
    _encode({"model": "mistral-small-latest", "messages": _large_conversation(), "max_tokens": 1024}),
    False,
)
STREAM = Workload(
    "stream",
    f"streamed chat (18 events, {STREAM_GAP_MS} ms apart)",
    CHAT,
    _encode(
        {
            "model": "mistral-small-latest",
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 16,
            "stream": True,
        }
    ),
    True,
)
EMBED = Workload(
    "embeddings",
    "embeddings (batches of 8)",
    EMBEDDINGS,
    _encode({"model": "mistral-embed", "input": [f"Sentence number {i} of the batch." for i in range(8)]}),
    False,
)
ALL = (SMALL, LARGE, STREAM, EMBED)
MODELS = ("mistral-small-latest", "mistral-embed")
