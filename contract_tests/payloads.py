"""Request pieces the chat contract tests share, and the two readings of an answer they all need.

Every body built here is a constant or a pure function of its arguments: ``shim+replay`` answers from
recordings keyed by the exact request the shim sends, so nothing may depend on the clock or on chance.
The models are ones both the mock's catalogue and the live API know, so the same test runs on every target.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Mapping
from typing import Any

import openai

from contract_tests.targets import Target

MODEL = "mistral-small-latest"
"""A cheap chat model with tools, vision and optional reasoning (``reasoning_effort``)."""
VISION_MODEL = "pixtral-large-latest"
"""A vision model that is not retired, so answers name it as asked."""
TEXT_ONLY_MODEL = "codestral-latest"
"""A chat model without the ``vision`` capability."""

HELLO: list[dict[str, Any]] = [{"role": "user", "content": "Say hello in one short sentence."}]
WEATHER_QUESTION: list[dict[str, Any]] = [{"role": "user", "content": "What's the weather in Paris?"}]
WEATHER_AND_TIME: list[dict[str, Any]] = [
    {"role": "user", "content": "What's the weather and the local time in Paris? Use both tools."}
]
GREETING: list[dict[str, Any]] = [{"role": "user", "content": "Hello there, how are you today?"}]
"""A turn that asks for no tool: only a forced ``tool_choice`` makes a model call one."""

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"}},
            "required": ["city"],
        },
    },
}
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_local_time",
        "description": "The local time in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city, e.g. Paris"}},
            "required": ["city"],
        },
    },
}
WEATHER_REPORT = '{"temperature_c": 18, "sky": "sunny"}'
"""What the application's ``get_weather`` returns, as the content of the tool message."""

OPENAI_CALL_ID = "call_PTLP8xhu3uwZk4l3nlnrrJha"
"""A tool-call id as OpenAI writes them (catalogue 25): Mistral accepts only nine letters and digits."""


def weather_history(call_id: str) -> list[dict[str, Any]]:
    """A conversation that already called ``get_weather`` (with ``call_id``) and holds its result."""
    return [
        *WEATHER_QUESTION,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": WEATHER_REPORT},
    ]


def png(width: int = 32, height: int = 32, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small solid-colour PNG, byte for byte the same on every run (a real image the live API decodes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def png_data_url(rgb: tuple[int, int, int] = (200, 40, 40)) -> str:
    return "data:image/png;base64," + base64.b64encode(png(rgb=rgb)).decode()


def text_pdf(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text, byte for byte the same on every run."""
    stream = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    table = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{table}\n%%EOF\n".encode()
    return out


HTTPS_IMAGE = "https://www.gstatic.com/webp/gallery3/1.png"
"""A public PNG the live API has fetched (pydantic-ai's Mistral recordings); the mock fetches nothing."""


def image_question(
    url: str, detail: str | None = None, text: str = "What colour is this image?"
) -> list[Any]:
    image: dict[str, Any] = {"url": url}
    if detail is not None:
        image["detail"] = detail
    return [
        {
            "role": "user",
            "content": [{"type": "text", "text": text}, {"type": "image_url", "image_url": image}],
        }
    ]


# --- reading answers -------------------------------------------------------------------------------------


def refusals(error: openai.APIStatusError) -> dict[tuple[Any, ...], str]:
    """Mistral's 422 as ``{loc: type}``, from whichever of its body shapes came back (catalogue 36).

    The envelope nests the details in ``message.detail``; the bare shape has ``detail`` on top; the
    empty-tools shape (code 3001) has both ``detail`` and a list in ``message``.
    """
    body = error.body if isinstance(error.body, Mapping) else {}
    details = body.get("detail")
    if not isinstance(details, list):
        message = body.get("message")
        details = message.get("detail") if isinstance(message, Mapping) else message
    assert isinstance(details, list), f"not one of Mistral's 422 bodies: {error.body!r}"
    return {tuple(item["loc"]): item["type"] for item in details}


def extra_forbidden(*fields: str) -> dict[tuple[Any, ...], str]:
    """The ``refusals`` of a request whose top-level ``fields`` Mistral does not know."""
    return {("body", field): "extra_forbidden" for field in fields}


def dropped(headers: Mapping[str, str]) -> set[str]:
    """The OpenAI-only fields the shim left out, as its ``x-shim-dropped-params`` header names them."""
    value = headers.get("x-shim-dropped-params") or ""
    return {name for name in value.split(",") if name}


SYNTHETIC = frozenset({"shim+mock", "mock"})


def synthetic(target: Target) -> bool:
    """Whether ``target`` answers from the synthetic mock, where an answer is a function of the request.

    Only there may a test compare two answers (streamed and not): the live API differs from call to call,
    and recordings may have been made from it (``make recordings`` with ``--record-live``).
    """
    return target.name in SYNTHETIC
