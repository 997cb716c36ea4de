"""OCR through the shim's pass-through, with plain httpx and with Mistral's own SDK.

OpenAI has no OCR endpoint, so the shim translates nothing here: ``POST /v1/ocr`` (and everything under
``/mistral/v1/``) goes to Mistral unchanged, with the key injected, and Mistral's answer (errors included)
comes back unchanged. So the mistralai SDK pointed at the shim's root works as it does at Mistral, and the
same tests run without the shim. Every answer is held to Mistral's OCR schema on every target: behind the
shim the suite's oracle judges OpenAI's routes only, so these tests judge the pass-through themselves.

The document is a real two-page PDF with a text layer, built here, so the pages, the text and the page
count are known and the request is the same on every run.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx2 as httpx
import pytest
from mistralai.client import Mistral
from mistralai.client import errors as mistral_errors
from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from contract_tests.targets import Target

MODEL = "mistral-ocr-latest"
PAGES = ("Quarterly report", "Second page")
REMOTE_PDF = "https://www.w3.org/WAI/ER/tests/xhtml/testfiles/resources/pdf/dummy.pdf"


def text_pdf(pages: tuple[str, ...]) -> bytes:
    """A Letter-sized PDF with one line of Helvetica text per page (deterministic bytes)."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for text in pages:
        page = writer.add_blank_page(width=612, height=792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        content = ContentStream(None, writer)
        content.set_data(f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode())
        page.replace_contents(content)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PDF = text_pdf(PAGES)
PDF_URL = "data:application/pdf;base64," + base64.b64encode(PDF).decode()
INLINE: dict[str, Any] = {"type": "document_url", "document_url": PDF_URL, "document_name": "report.pdf"}


def _assert_pages(body: dict[str, Any]) -> None:
    """Both pages, in order, each with its own line of text, and the usage Mistral bills on."""
    assert str(body["model"]).startswith("mistral-ocr")
    pages = body["pages"]
    assert [page["index"] for page in pages] == [0, 1]
    for page, text in zip(pages, PAGES, strict=True):
        assert text in page["markdown"]
        assert page["dimensions"]["width"] < page["dimensions"]["height"]  # Letter, portrait
    assert body["usage_info"]["pages_processed"] == 2


@pytest.mark.feature("OCR", "inline PDF (data: URL) with httpx")
def test_inline_pdf_with_httpx(ocr_http: httpx.Client, target: Target) -> None:
    response = ocr_http.post("/v1/ocr", json={"model": MODEL, "document": INLINE})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    _assert_pages(response.json())
    if target.via_shim:
        assert response.headers["x-request-id"]  # the shim's own headers ride on the pass-through


@pytest.mark.feature("OCR", "inline PDF (data: URL) with httpx")
@pytest.mark.targets("shim+mock", "shim+replay", "live")
def test_inline_pdf_through_the_mistral_prefix(ocr_http: httpx.Client) -> None:
    """``/mistral/v1/ocr`` is the same pass-through as ``/v1/ocr``: every Mistral route is reachable there."""
    response = ocr_http.post("/mistral/v1/ocr", json={"model": MODEL, "document": INLINE, "pages": [1]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [page["index"] for page in body["pages"]] == [1]
    assert PAGES[1] in body["pages"][0]["markdown"]
    assert body["usage_info"]["pages_processed"] == 1


@pytest.mark.feature("OCR", "remote document_url")
def test_remote_document_url_with_httpx(ocr_http: httpx.Client) -> None:
    response = ocr_http.post(
        "/v1/ocr", json={"model": MODEL, "document": {"type": "document_url", "document_url": REMOTE_PDF}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pages"] and body["pages"][0]["index"] == 0
    assert body["usage_info"]["pages_processed"] == len(body["pages"])


@pytest.mark.feature("OCR", "errors pass through in Mistral's shape")
def test_an_ocr_error_comes_back_as_mistral_sent_it(ocr_http: httpx.Client) -> None:
    """No translation on the pass-through: Mistral's 422 body, unchanged, on every target."""
    response = ocr_http.post("/v1/ocr", json={"document": INLINE})
    assert response.status_code == 422
    body = response.json()
    assert body["object"] == "error"
    details = body["message"]["detail"]
    assert [detail["loc"] for detail in details] == [["body", "model"]]
    assert details[0]["type"] == "missing"


@pytest.mark.feature("OCR", "mistralai SDK at the target's root")
def test_inline_pdf_with_the_mistral_sdk(ocr_sdk: Mistral) -> None:
    answer = ocr_sdk.ocr.process(model=MODEL, document=INLINE)  # type: ignore[arg-type]
    _assert_pages(answer.model_dump(mode="json"))


@pytest.mark.feature("OCR", "mistralai SDK at the target's root")
async def test_inline_pdf_with_the_mistral_sdk_async(async_ocr_sdk: Mistral) -> None:
    answer = await async_ocr_sdk.ocr.process_async(model=MODEL, document=INLINE, pages=[0])  # type: ignore[arg-type]
    assert [page.index for page in answer.pages] == [0]
    assert PAGES[0] in answer.pages[0].markdown
    assert answer.usage_info.pages_processed == 1


@pytest.mark.feature("OCR", "mistralai SDK at the target's root")
def test_remote_document_url_with_the_mistral_sdk(ocr_sdk: Mistral) -> None:
    answer = ocr_sdk.ocr.process(model=MODEL, document={"type": "document_url", "document_url": REMOTE_PDF})
    assert answer.pages
    assert answer.usage_info.pages_processed == len(answer.pages)


@pytest.mark.feature("OCR", "errors pass through in Mistral's shape")
def test_an_ocr_error_reaches_the_mistral_sdk(ocr_sdk: Mistral) -> None:
    """A bad page selection is Mistral's 400; the SDK raises its own error with Mistral's body."""
    with pytest.raises(mistral_errors.SDKError) as raised:
        ocr_sdk.ocr.process(model=MODEL, document=INLINE, pages="first")  # type: ignore[arg-type]
    assert raised.value.status_code == 400
    assert "first" in raised.value.body
