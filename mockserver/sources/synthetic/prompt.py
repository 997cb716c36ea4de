"""How many tokens a request's prompt costs, counted with the model family's Mistral tokenizer.

The conversation is counted the way Mistral's instruct templates lay it out: the text of every message,
plus the control tokens around each turn and the tool definitions. Images are counted as Pixtral does, one
token per 16x16 patch plus one per row, on an image scaled to at most 1024 pixels a side.
"""

import base64
import binascii
import io
import json
import math
from typing import Any

from mistral_wire import tokens
from mistral_wire.contract import chunks, messages
from mistral_wire.contract.catalogue import Tokenizer
from mistral_wire.contract.requests import ChatCompletionRequest

_TURN_OVERHEAD = 2  # [INST] … [/INST], [TOOL_RESULTS] … [/TOOL_RESULTS], [SYSTEM_PROMPT] … [/SYSTEM_PROMPT]
_UNKNOWN_IMAGE = (512, 512)


def image_tokens(url: str) -> int:
    width, height = _image_size(url)
    scale = min(1.0, 1024 / max(width, height, 1))
    rows = math.ceil(height * scale / 16)
    cols = math.ceil(width * scale / 16)
    return rows * cols + rows


def _image_size(url: str) -> tuple[int, int]:
    if not url.startswith("data:") or "," not in url:
        return _UNKNOWN_IMAGE
    try:
        from PIL import Image

        raw = base64.b64decode(url.split(",", 1)[1], validate=False)
        with Image.open(io.BytesIO(raw)) as image:
            return image.size
    except (binascii.Error, ValueError, OSError, ImportError):
        return _UNKNOWN_IMAGE


def content_tokens(content: Any, kind: Tokenizer) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return tokens.count(content, kind)
    total = 0
    for part in content:
        if isinstance(part, chunks.TextChunk):
            total += tokens.count(part.text, kind)
        elif isinstance(part, chunks.ImageURLChunk):
            url = part.image_url if isinstance(part.image_url, str) else part.image_url.url
            total += image_tokens(url)
        elif isinstance(part, chunks.ThinkChunk):
            total += 2 + sum(
                tokens.count(t.text, kind) for t in part.thinking if isinstance(t, chunks.TextChunk)
            )
        elif isinstance(part, chunks.AudioChunk):
            # About 12.5 tokens per second of audio; base64 of 16 kHz mono 16-bit is ~43 kB per second.
            data = part.input_audio if isinstance(part.input_audio, str) else part.input_audio.data
            total += max(1, len(data) * 125 // 430_000)
        else:
            total += 256  # documents and references: their extracted text, unknown offline
    return total


def prompt_tokens(request: ChatCompletionRequest, kind: Tokenizer) -> int:
    total = 1  # BOS
    for message in request.messages:
        total += _TURN_OVERHEAD + content_tokens(message.content, kind)
        if isinstance(message, messages.AssistantMessage) and message.tool_calls:
            for call in message.tool_calls:
                arguments = call.function.arguments
                text = arguments if isinstance(arguments, str) else json.dumps(arguments)
                total += 2 + tokens.count(call.function.name, kind) + tokens.count(text, kind)
        if isinstance(message, messages.ToolMessage) and message.tool_call_id:
            total += tokens.count(message.tool_call_id, kind)
    if request.tools:
        definitions = [tool.model_dump(mode="json", by_alias=True) for tool in request.tools]
        total += _TURN_OVERHEAD + tokens.count(json.dumps(definitions), kind)
    return total
