"""One call per kind of Mistral interaction (chat, tools, streams, FIM, embeddings, OCR, models, Responses,
errors).

``scenarios`` makes them with Mistral's SDK: what ``make recordings`` records and the replay tests send again.
``INTERACTIONS`` are the same kinds as raw HTTP requests (``send``), for the record-and-replay round trips.
"""

import base64
import io
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
from mistralai.client import Mistral

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
RESPONSES_WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
"""The same tool in the Responses API's flat form."""


def _pdf() -> str:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return "data:application/pdf;base64," + base64.b64encode(buffer.getvalue()).decode()


def responses_round_trip(client: Mistral, model: str = "mistral-small-latest") -> Any:
    """A forced function call, then its output sent back with the whole history: Mistral's Responses
    API is stateless, so the second request carries the first one's output item."""
    ask = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.responses.create(
        model=model,
        input=ask,  # type: ignore[arg-type]
        tools=[RESPONSES_WEATHER],  # type: ignore[list-item]
        tool_choice="required",
    )
    (call,) = first.output
    history = [
        *ask,
        call,  # the output item as the SDK parsed it, sent back as it is
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature_c": 18}'},  # type: ignore[union-attr]
    ]
    return client.responses.create(model=model, input=history, tools=[RESPONSES_WEATHER])  # type: ignore[arg-type,list-item]


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
        "responses": lambda: client.responses.create(model="mistral-small-latest", input="Say hello."),
        "responses stream": lambda: list(
            client.responses.create(
                model="mistral-small-latest",
                input=ask,  # type: ignore[arg-type]
                stream=True,
                max_output_tokens=40,
            )
        ),
        "responses tools": lambda: responses_round_trip(client),
        "responses input tokens": lambda: client.responses.count_input_tokens(
            model="mistral-small-latest",
            input=ask,
            tools=[RESPONSES_WEATHER],  # type: ignore[arg-type,list-item]
        ),
        "models": lambda: client.models.list(),
        "model": lambda: client.models.retrieve(model_id="mistral-small-latest"),
        "error unknown model": lambda: client.chat.complete(model="no-such-model", messages=ask),
        "error responses unknown model": lambda: client.responses.create(model="no-such-model", input="Hi"),
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


# --- the same kinds of interaction, as raw HTTP requests ----------------------------------------------------

RECORDING_KEY = "client-key-0123456789"
"""The key the round trips are sent with: distinctive, so a scan finds it if a recording holds it."""
RECORDING_HEADERS = {"Authorization": f"Bearer {RECORDING_KEY}", "Content-Type": "application/json"}
_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def _png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


INTERACTIONS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    (
        "chat",
        "POST",
        "/v1/chat/completions",
        {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]},
    ),
    (
        "tools",
        "POST",
        "/v1/chat/completions",
        {
            "model": "mistral-small-latest",
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [_TOOL],
        },
    ),
    (
        "sse",
        "POST",
        "/v1/chat/completions",
        {
            "model": "mistral-small-latest",
            "messages": [{"role": "user", "content": "Hello"}],
            "stream": True,
            "max_tokens": 12,
        },
    ),
    (
        "fim",
        "POST",
        "/v1/fim/completions",
        {"model": "codestral-latest", "prompt": "def f(x):", "suffix": "  return y"},
    ),
    (
        "fim-sse",
        "POST",
        "/v1/fim/completions",
        {"model": "codestral-latest", "prompt": "def f(x):", "stream": True, "max_tokens": 8},
    ),
    ("embeddings", "POST", "/v1/embeddings", {"model": "mistral-embed", "input": ["one", "two"]}),
    (
        "ocr",
        "POST",
        "/v1/ocr",
        {"model": "mistral-ocr-latest", "document": {"type": "image_url", "image_url": _png()}},
    ),
    ("models", "GET", "/v1/models", None),
    ("model", "GET", "/v1/models/mistral-small-latest", None),
    (
        "error-400",
        "POST",
        "/v1/chat/completions",
        {"model": "nope", "messages": [{"role": "user", "content": "Hi"}]},
    ),
    (
        "error-422",
        "POST",
        "/v1/chat/completions",
        {"model": "mistral-small-latest", "messages": [], "seed": 3},
    ),
    ("responses", "POST", "/v1/responses", {"model": "mistral-small-latest", "input": "Hi"}),
    (
        "responses-sse",
        "POST",
        "/v1/responses",
        {"model": "mistral-small-latest", "input": "Hello", "stream": True, "max_output_tokens": 12},
    ),
    (
        "responses-input-tokens",
        "POST",
        "/v1/responses/input_tokens",
        {"model": "mistral-small-latest", "input": "Hello"},
    ),
]


def send(
    client: httpx.Client, method: str, path: str, body: dict[str, Any] | None
) -> tuple[int, dict[str, str], bytes]:
    """One of ``INTERACTIONS`` through ``client``: the status, the headers and the body."""
    response = client.request(method, path, json=body) if body is not None else client.request(method, path)
    return response.status_code, dict(response.headers), response.content
