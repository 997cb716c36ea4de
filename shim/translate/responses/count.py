"""Token counts of a translated request, with Mistral's tokenizer for the model, for ``truncation`` and
``POST /v1/responses/input_tokens``.

A count lays the conversation out as Mistral's instruct templates do: the text of every turn plus its
control tokens, the tool calls, and the tool definitions. It is close to, not always equal to, what Mistral
bills: images are counted at a fixed size (Pixtral's count of a 512x512 image; the shim does not decode
images), documents at a fixed estimate (their text is extracted by Mistral). Counting runs in a thread, and
only when it can matter: ``upper_bound`` is cheap and never below the count (a token is at least one byte,
and an image at most Pixtral's largest), so a request it already fits is never counted at all.

The functions are synchronous and expect the tokenizer loaded (``mistral_wire.tokens.ready``).
"""

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from mistral_wire import jsonio, tokens
from mistral_wire.contract.catalogue import Tokenizer, lookup
from shim.translate.problem import OpenAIError

IMAGE_TOKENS: Final = 1056
"""An image of 512x512 pixels as Pixtral counts it: one token per 16x16 patch, one more per row."""
IMAGE_TOKENS_MAX: Final = 4160
"""The most an image costs: Pixtral scales images to 1024 pixels a side at most (64 rows of 64 patches)."""
DOCUMENT_TOKENS: Final = 256
"""A document (PDF) whose text Mistral extracts: unknown offline, counted at this estimate."""
TURN_TOKENS: Final = 2
"""The control tokens around a turn ([INST] ... [/INST], [TOOL_RESULTS] ... [/TOOL_RESULTS], ...)."""
FALLBACK: Final[Tokenizer] = "tekken"


def tokenizer_for(model: Any) -> Tokenizer:
    family = lookup(model) if isinstance(model, str) else None
    return family.tokenizer if family is not None else FALLBACK


def context_of(model: Any) -> int | None:
    """The model's context window from Mistral's catalogue; None for a model it does not know."""
    family = lookup(model) if isinstance(model, str) else None
    return family.context if family is not None else None


def _images(body: Mapping[str, Any]) -> int:
    found = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, Mapping) else None
        if isinstance(content, list):
            found += sum(
                1 for part in content if isinstance(part, Mapping) and part.get("type") == "image_url"
            )
    return found


def upper_bound(body: Mapping[str, Any]) -> int:
    """A bound no count of ``body`` exceeds: its JSON's length, plus the most each image may cost."""
    return len(jsonio.dumps(body)) + IMAGE_TOKENS_MAX * _images(body)


def _content(content: Any, kind: Tokenizer) -> int:
    if isinstance(content, str):
        return tokens.count(content, kind)
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if not isinstance(part, Mapping):
            continue
        part_kind = part.get("type")
        if part_kind == "text":
            total += tokens.count(str(part.get("text") or ""), kind)
        elif part_kind == "image_url":
            total += IMAGE_TOKENS
        elif part_kind == "thinking":
            total += TURN_TOKENS + _content(part.get("thinking"), kind)
        else:
            total += DOCUMENT_TOKENS
    return total


def prompt_tokens(body: Mapping[str, Any], kind: Tokenizer) -> int:
    """The input tokens of a Mistral chat body: the turns, their tool calls, and the tool definitions."""
    total = 1  # the beginning-of-sequence token
    for message in body.get("messages") or []:
        if not isinstance(message, Mapping):
            continue
        total += TURN_TOKENS + _content(message.get("content"), kind)
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                arguments = function.get("arguments")
                text = arguments if isinstance(arguments, str) else json.dumps(arguments)
                total += (
                    TURN_TOKENS
                    + tokens.count(str(function.get("name") or ""), kind)
                    + tokens.count(text, kind)
                )
    if body.get("tools"):
        total += TURN_TOKENS + tokens.count(json.dumps(body["tools"], ensure_ascii=False), kind)
    return total


def _item_content(content: Any, kind: Tokenizer) -> int:
    if isinstance(content, str):
        return tokens.count(content, kind)
    total = 0
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "input_image":
            total += IMAGE_TOKENS
        elif part.get("type") == "input_file":
            total += DOCUMENT_TOKENS
        else:
            total += tokens.count(str(part.get("text") or part.get("refusal") or ""), kind)
    return total


def item_tokens(item: Mapping[str, Any], kind: Tokenizer) -> int:
    """What one input item adds to the count (for choosing which oldest items to leave out)."""
    item_kind = item.get("type")
    if item_kind == "function_call":
        text = f"{item.get('name') or ''}{item.get('arguments') or ''}"
        return TURN_TOKENS + tokens.count(text, kind)
    if item_kind == "function_call_output":
        return TURN_TOKENS + _item_content(item.get("output"), kind)
    if item_kind == "reasoning":
        return sum(_item_content(item.get(key), kind) for key in ("content", "summary"))
    return TURN_TOKENS + _item_content(item.get("content"), kind)


def first_kept(
    items: Sequence[Mapping[str, Any]], costs: Sequence[int], fixed: int, budget: int
) -> int | None:
    """How many of the oldest items to leave out so the rest fits ``budget`` (``fixed`` counts what is
    never left out: instructions, tools); None when even the newest item alone does not fit.

    The kept history never starts with a function call's output or a reasoning item whose call or answer
    was left out: Mistral refuses a tool result without its call.
    """
    remaining = fixed + sum(costs)
    start = 0
    while start < len(items) and remaining > budget:
        remaining -= costs[start]
        start += 1
    while start < len(items) and items[start].get("type") in ("function_call_output", "reasoning"):
        remaining -= costs[start]
        start += 1
    return start if start < len(items) and remaining <= budget else None


def context_exceeded() -> OpenAIError:
    """OpenAI's refusal of an input longer than the model's context window."""
    return OpenAIError(
        400,
        "Your input exceeds the context window of this model. Please adjust your input and try again.",
        param="input",
        code="context_length_exceeded",
    )
