"""Every kind of body the mock sends, validated against the response schemas of Mistral's OpenAPI spec.

The oracle forgives exactly the spec's two known defects (closed objects that real responses extend, and
``data`` wrongly required on chat responses); see ``testkit/spec.py``.
"""

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest

from testkit.auth import AUTH
from testkit.spec import mistral_response_validator

CHAT = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "What's the weather in Paris?"}],
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}

CHAT_BODIES = {
    "plain": CHAT,
    "tools": {**CHAT, "tools": [WEATHER]},
    "parallel": {
        **CHAT,
        "tools": [WEATHER, {**WEATHER, "function": {**WEATHER["function"], "name": "paris_time"}}],
    },
    "reasoning": {**CHAT, "reasoning_effort": "high"},
    "json_schema": {
        **CHAT,
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}},
    },
    "json_object": {**CHAT, "response_format": {"type": "json_object"}},
    "n": {**CHAT, "n": 2, "max_tokens": 8},
    "length": {**CHAT, "max_tokens": 3},
}


def check(schema: str, body: Any) -> None:
    errors = mistral_response_validator(schema)(body)
    assert not errors, "\n".join(errors)


def events(http: httpx.Client, path: str, body: dict[str, Any]) -> list[Any]:
    with http.stream("POST", path, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        raw = b"".join(response.iter_bytes())
    blocks = raw.split(b"\n\n")[:-1]
    assert blocks[-1] == b"data: [DONE]"
    return [json.loads(b[6:]) for b in blocks[:-1]]


@pytest.mark.parametrize("kind", CHAT_BODIES)
def test_chat_bodies(http: httpx.Client, kind: str) -> None:
    response = http.post("/v1/chat/completions", json=CHAT_BODIES[kind])
    assert response.status_code == 200
    check("ChatCompletionResponse", response.json())


@pytest.mark.parametrize("kind", CHAT_BODIES)
def test_chat_stream_chunks(http: httpx.Client, kind: str) -> None:
    for chunk in events(http, "/v1/chat/completions", CHAT_BODIES[kind]):
        check("CompletionChunk", chunk)


def test_padded_chunks(start_mock: Callable[..., str]) -> None:
    with httpx.Client(base_url=start_mock(padding=True), headers=AUTH) as client:
        for chunk in events(client, "/v1/chat/completions", CHAT):
            check("CompletionChunk", chunk)


def test_fim_bodies(http: httpx.Client) -> None:
    body = {"model": "codestral-latest", "prompt": "def f(x):", "suffix": "    return y"}
    check("FIMCompletionResponse", http.post("/v1/fim/completions", json=body).json())
    for chunk in events(http, "/v1/fim/completions", body):
        check("CompletionChunk", chunk)


@pytest.mark.parametrize("dtype", ["float", "int8", "uint8", "binary", "ubinary"])
@pytest.mark.parametrize(("model", "dimension"), [("mistral-embed", None), ("codestral-embed", 512)])
def test_embedding_bodies(http: httpx.Client, dtype: str, model: str, dimension: int | None) -> None:
    body: dict[str, Any] = {"model": model, "input": ["one", "two"], "output_dtype": dtype}
    if dimension:
        body["output_dimension"] = dimension
    response = http.post("/v1/embeddings", json=body)
    assert response.status_code == 200, response.text
    check("EmbeddingResponse", response.json())


def _pdf_data_uri() -> str:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return "data:application/pdf;base64," + base64.b64encode(buffer.getvalue()).decode()


OCR_BODIES = {
    "pdf": {"document": {"type": "document_url", "document_url": _pdf_data_uri()}},
    "remote-everything": {
        "document": {"type": "document_url", "document_url": "https://example.com/report.pdf"},
        "include_image_base64": True,
        "table_format": "html",
        "extract_header": True,
        "extract_footer": True,
        "confidence_scores_granularity": "word",
        "document_annotation_format": {
            "type": "json_schema",
            "json_schema": {"name": "doc", "schema": SCHEMA},
        },
        "bbox_annotation_format": {"type": "json_schema", "json_schema": {"name": "box", "schema": SCHEMA}},
    },
    "image": {
        "document": {"type": "image_url", "image_url": "https://example.com/scan.png"},
        "include_blocks": False,
    },
    "file": {"document": {"type": "file", "file_id": "bb9e30b1-970f-4a42-b682-8c0079e7c242"}, "pages": "0-1"},
}


@pytest.mark.parametrize("kind", OCR_BODIES)
def test_ocr_bodies(http: httpx.Client, kind: str) -> None:
    response = http.post("/v1/ocr", json={"model": "mistral-ocr-latest", **OCR_BODIES[kind]})
    assert response.status_code == 200, response.text
    check("OCRResponse", response.json())


def test_model_bodies(http: httpx.Client) -> None:
    listing = http.get("/v1/models").json()
    check("ModelList", listing)
    for card in listing["data"][:5]:
        check("BaseModelCard", http.get(f"/v1/models/{card['id']}").json())


def test_bare_validation_errors_match_the_spec(start_mock: Callable[..., str]) -> None:
    url = start_mock(validation_shape="bare")
    response = httpx.post(
        f"{url}/v1/chat/completions", json={**CHAT, "seed": 1, "temperature": 3}, headers=AUTH
    )
    assert response.status_code == 422
    check("HTTPValidationError", response.json())
