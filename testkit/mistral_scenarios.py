"""What ``make recordings`` records and what the replay tests send again: one call per kind of interaction."""

import base64
import io
from collections.abc import Callable
from typing import Any

from mistralai.client import Mistral

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _pdf() -> str:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return "data:application/pdf;base64," + base64.b64encode(buffer.getvalue()).decode()


def scenarios(client: Mistral) -> dict[str, Callable[[], Any]]:
    ask = [{"role": "user", "content": "What's the weather in Paris?"}]
    return {
        "chat": lambda: client.chat.complete(
            model="mistral-small-latest", messages=[{"role": "user", "content": "Say hello."}]
        ),
        "chat tools": lambda: client.chat.complete(
            model="mistral-small-latest", messages=ask, tools=[WEATHER]
        ),
        "chat stream": lambda: list(
            client.chat.stream(model="mistral-small-latest", messages=ask, max_tokens=40)
        ),
        "chat stream tools": lambda: list(
            client.chat.stream(model="mistral-small-latest", messages=ask, tools=[WEATHER])
        ),
        "chat json": lambda: client.chat.complete(
            model="mistral-small-latest", messages=ask, response_format={"type": "json_object"}
        ),
        "fim": lambda: client.fim.complete(
            model="codestral-latest", prompt="def add(a, b):", suffix="    return c"
        ),
        "fim stream": lambda: list(client.fim.stream(model="codestral-latest", prompt="def add(a, b):")),
        "embeddings": lambda: client.embeddings.create(model="mistral-embed", inputs=["first", "second"]),
        "ocr": lambda: client.ocr.process(
            model="mistral-ocr-latest", document={"type": "document_url", "document_url": _pdf()}
        ),
        "models": lambda: client.models.list(),
        "model": lambda: client.models.retrieve(model_id="mistral-small-latest"),
        "error unknown model": lambda: client.chat.complete(model="no-such-model", messages=ask),
        "error tool call id": lambda: client.chat.complete(
            model="mistral-small-latest",
            messages=[
                *ask,
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "call_1", "function": {"name": "get_weather", "arguments": "{}"}}],
                },
                {"role": "tool", "content": "18C", "tool_call_id": "call_1"},
            ],
        ),
    }
