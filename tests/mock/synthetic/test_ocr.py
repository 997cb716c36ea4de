"""The synthetic OCR answer: real where the document is inline, consistent everywhere, deterministic."""

import base64
import io
import json
import re
from typing import Any

import jsonschema
import pypdf
import pytest
from PIL import Image

from mistral_wire.contract.errors import MistralError
from mistral_wire.contract.requests import OCRRequest
from mockserver.sources.synthetic import pdf
from mockserver.sources.synthetic.ocr import answer

MODEL = "mistral-ocr-latest"
PAGE_KEYS = [
    "index",
    "markdown",
    "images",
    "tables",
    "hyperlinks",
    "header",
    "footer",
    "dimensions",
    "confidence_scores",
    "blocks",
]
CORNERS = ["top_left_x", "top_left_y", "bottom_right_x", "bottom_right_y"]
BLOCK_TYPES = {
    "text", "title", "list", "table", "image", "equation", "caption", "code", "references", "aside_text",
    "header", "footer", "signature",
}  # fmt: skip
ANNOTATION_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "page_count": {"type": "integer", "minimum": 1},
        "language": {"type": "string", "enum": ["en", "fr", "de"]},
        "authors": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["title", "page_count", "language", "authors"],
    "additionalProperties": False,
}
FIGURE_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["chart", "photo", "diagram"]},
        "summary": {"type": "string"},
    },
    "required": ["kind", "summary"],
    "additionalProperties": False,
}


def make_pdf(pages: list[list[tuple[int, str]]], link: str | None = None) -> bytes:
    """A Letter-size PDF written by hand: one Helvetica line per (size, text), top to bottom."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(len(pages))), len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for number, lines in enumerate(pages):
        y, operators = 740, []
        for size, text in lines:
            operators.append(b"BT /F1 %d Tf 72 %d Td (%s) Tj ET" % (size, y, text.encode("latin-1")))
            y -= size + 10
        stream = b"\n".join(operators)
        annotations = b""
        if link and number == 1:
            annotations = (
                b" /Annots [<< /Type /Annot /Subtype /Link /Rect [72 600 300 620]"
                b" /A << /S /URI /URI (%s) >> >>]" % link.encode()
            )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents %d 0 R%s >>" % (5 + 2 * number, annotations)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def report_page(number: int) -> list[tuple[int, str]]:
    return [
        (9, "ACME Corp Annual Report"),
        (18, f"Chapter {number}"),
        (12, f"Hello OCR page {number}. The revenue grew in every region."),
        (12, "Costs stayed flat, see https://acme.example/costs for details."),
        (9, f"Page {number}"),
    ]


REPORT = make_pdf([report_page(1), report_page(2), report_page(3)], link="https://acme.example/annex")


def data_uri(raw: bytes, media_type: str) -> str:
    return f"data:{media_type};base64," + base64.b64encode(raw).decode()


def ocr(document: dict[str, Any], seed: int = 1, **options: Any) -> dict[str, Any]:
    request = OCRRequest.model_validate({"model": MODEL, "document": document, **options})
    return answer(request, MODEL, seed)


def pdf_doc(raw: bytes = REPORT) -> dict[str, Any]:
    return {"type": "document_url", "document_url": data_uri(raw, "application/pdf")}


FILE_DOC = {"type": "file", "file_id": "3b1e8f5c-9a44-4a57-9f0c-2d1f6f1d2a10"}


def first_seed(condition: Any) -> int:
    """The first seed whose synthetic file document (default options) satisfies ``condition``."""
    return next(seed for seed in range(60) if condition(ocr(FILE_DOC, seed)))


def image_ids(body: dict[str, Any]) -> list[str]:
    return [image["id"] for page in body["pages"] for image in page["images"]]


def referenced_images(body: dict[str, Any]) -> list[str]:
    return [ref for page in body["pages"] for ref in re.findall(r"!\[(img-\d+\.jpeg)\]", page["markdown"])]


# --- inline PDFs: real pages ----------------------------------------------------------------------


def test_inline_pdf_yields_its_real_pages_and_text():
    body = ocr(pdf_doc())
    assert list(body) == ["pages", "model", "document_annotation", "usage_info"]
    assert body["model"] == MODEL
    assert [page["index"] for page in body["pages"]] == [0, 1, 2]
    for number, page in enumerate(body["pages"], 1):
        assert list(page) == PAGE_KEYS
        assert f"# Chapter {number}" in page["markdown"]
        assert (
            f"Hello OCR page {number}. The revenue grew in every region. Costs stayed flat"
            in page["markdown"]
        )
        assert page["dimensions"] == {"dpi": 200, "height": 2200, "width": 1700}
    assert body["usage_info"] == {"pages_processed": 3, "doc_size_bytes": len(REPORT)}
    assert body["document_annotation"] is None


@pytest.mark.parametrize("pages", [[0, 2], "0,2-3", [2, 0, 7]])
def test_page_selection(pages):
    body = ocr(pdf_doc(), pages=pages)
    assert [page["index"] for page in body["pages"]] == [0, 2]
    assert "Hello OCR page 3." in body["pages"][1]["markdown"]
    assert body["usage_info"]["pages_processed"] == 2


def test_header_and_footer_stay_in_markdown_unless_extracted():
    kept = ocr(pdf_doc())["pages"][1]
    assert kept["header"] is None and kept["footer"] is None
    assert kept["markdown"].startswith("ACME Corp Annual Report\n\n") and kept["markdown"].endswith("Page 2")

    page = ocr(pdf_doc(), extract_header=True, extract_footer=True)["pages"][1]
    assert page["header"] == "ACME Corp Annual Report"
    assert page["footer"] == "Page 2"
    assert "ACME" not in page["markdown"] and "Page 2" not in page["markdown"]
    assert page["markdown"].startswith("# Chapter 2")
    assert page["blocks"][0]["type"] == "header"


def test_hyperlinks_come_from_link_annotations_and_text():
    pages = ocr(pdf_doc())["pages"]
    assert pages[0]["hyperlinks"] == ["https://acme.example/costs"]
    assert pages[1]["hyperlinks"] == ["https://acme.example/annex", "https://acme.example/costs"]


def test_pages_without_text_get_prose_at_their_real_size():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)  # A4 portrait
    writer.add_blank_page(width=842, height=595)  # A4 landscape
    buffer = io.BytesIO()
    writer.write(buffer)
    body = ocr(pdf_doc(buffer.getvalue()))
    assert [page["dimensions"] for page in body["pages"]] == [
        {"dpi": 200, "height": 2339, "width": 1653},
        {"dpi": 200, "height": 1653, "width": 2339},
    ]
    assert body["pages"][0]["markdown"].count("\n\n# ") == 1
    assert len(body["pages"][1]["markdown"]) > 100


# --- options --------------------------------------------------------------------------------------


def test_image_base64_only_when_asked():
    seed = first_seed(image_ids)
    without = ocr(FILE_DOC, seed)
    assert all(image["image_base64"] is None for page in without["pages"] for image in page["images"])

    body = ocr(FILE_DOC, seed, include_image_base64=True)
    image = next(image for page in body["pages"] for image in page["images"])
    assert list(image) == ["id", *CORNERS, "image_base64", "image_annotation"]
    prefix = "data:image/jpeg;base64,"
    assert image["image_base64"].startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(image["image_base64"][len(prefix) :]))) as decoded:
        assert decoded.format == "JPEG"


def test_image_limit_and_min_size():
    seed = first_seed(lambda body: len(image_ids(body)) >= 2)
    full = ocr(FILE_DOC, seed)
    assert image_ids(full) == [f"img-{n}.jpeg" for n in range(len(image_ids(full)))]
    assert referenced_images(full) == image_ids(full)

    limited = ocr(FILE_DOC, seed, image_limit=1)
    assert image_ids(limited) == referenced_images(limited) == ["img-0.jpeg"]
    none = ocr(FILE_DOC, seed, image_limit=0)
    assert image_ids(none) == referenced_images(none) == []
    tiny = ocr(FILE_DOC, seed, image_min_size=5000)
    assert image_ids(tiny) == []
    assert all(block["type"] != "image" for page in tiny["pages"] for block in page["blocks"])


def has_table(body: dict[str, Any]) -> bool:
    return any(block["type"] == "table" for page in body["pages"] for block in page["blocks"])


@pytest.mark.parametrize(
    ("table_format", "suffix", "start"), [("markdown", "md", "| "), ("html", "html", "<table>")]
)
def test_extracted_tables_are_linked_from_markdown(table_format, suffix, start):
    seed = first_seed(has_table)
    inline = ocr(FILE_DOC, seed)
    assert all(page["tables"] == [] for page in inline["pages"])
    assert any("| --- |" in page["markdown"] for page in inline["pages"])

    body = ocr(FILE_DOC, seed, table_format=table_format)
    tables = [table for page in body["pages"] for table in page["tables"]]
    assert tables and tables[0]["id"] == f"tbl-0.{suffix}"
    for page in body["pages"]:
        for table in page["tables"]:
            assert list(table) == ["id", "content", "format"]
            assert table["format"] == table_format and table["content"].startswith(start)
            assert f"[{table['id']}]({table['id']})" in page["markdown"]
        assert "| --- |" not in page["markdown"]
        table_blocks = [block for block in page["blocks"] if block["type"] == "table"]
        assert [block["table_id"] for block in table_blocks] == [table["id"] for table in page["tables"]]


def test_blocks_describe_the_page_or_are_null():
    body = ocr(FILE_DOC, 3)
    for page in body["pages"]:
        width, height = page["dimensions"]["width"], page["dimensions"]["height"]
        assert page["blocks"]
        for block in page["blocks"]:
            assert block["type"] in BLOCK_TYPES
            assert 0 <= block["top_left_x"] <= block["bottom_right_x"] <= width
            assert 0 <= block["top_left_y"] <= block["bottom_right_y"] <= height
            if block["type"] == "image":
                assert block["image_id"] in [image["id"] for image in page["images"]]
        tops = [block["top_left_y"] for block in page["blocks"]]
        assert tops == sorted(tops)  # reading order
    assert all(page["blocks"] is None for page in ocr(FILE_DOC, 3, include_blocks=False)["pages"])


def test_confidence_scores_by_granularity():
    assert all(page["confidence_scores"] is None for page in ocr(pdf_doc())["pages"])

    scores = ocr(pdf_doc(), confidence_scores_granularity="page")["pages"][0]["confidence_scores"]
    assert list(scores) == ["average_page_confidence_score", "minimum_page_confidence_score"]
    assert 0 <= scores["minimum_page_confidence_score"] <= scores["average_page_confidence_score"] <= 1

    page = ocr(pdf_doc(), confidence_scores_granularity="word")["pages"][0]
    words = page["confidence_scores"]["word_confidence_scores"]
    assert [word["text"] for word in words][:4] == ["ACME", "Corp", "Annual", "Report"]
    for word in words:
        assert page["markdown"][word["start_index"] :].startswith(word["text"])
        assert 0 <= word["confidence"] <= 1
    assert page["confidence_scores"]["minimum_page_confidence_score"] == min(w["confidence"] for w in words)
    assert all(block["confidence_scores"] is None for block in page["blocks"])

    page = ocr(pdf_doc(), confidence_scores_granularity="block")["pages"][0]
    assert "word_confidence_scores" not in page["confidence_scores"]
    for block in page["blocks"]:
        block_scores = block["confidence_scores"]
        assert list(block_scores) == [
            "average_content_confidence_score",
            "minimum_content_confidence_score",
            "block_type_confidence_score",
        ]
        assert (
            0
            <= block_scores["minimum_content_confidence_score"]
            <= block_scores["average_content_confidence_score"]
        )
        assert 0 <= block_scores["block_type_confidence_score"] <= 1


def test_annotations_follow_their_schemas():
    seed = first_seed(image_ids)
    body = ocr(
        FILE_DOC,
        seed,
        document_annotation_format={
            "type": "json_schema",
            "json_schema": {"name": "doc", "schema": ANNOTATION_SCHEMA},
        },
        bbox_annotation_format={
            "type": "json_schema",
            "json_schema": {"name": "figure", "schema": FIGURE_SCHEMA},
        },
    )
    jsonschema.validate(json.loads(body["document_annotation"]), ANNOTATION_SCHEMA)
    images = [image for page in body["pages"] for image in page["images"]]
    assert images
    for image in images:
        jsonschema.validate(json.loads(image["image_annotation"]), FIGURE_SCHEMA)


def test_same_seed_same_answer():
    options = {"confidence_scores_granularity": "word", "include_image_base64": True, "table_format": "html"}
    assert ocr(FILE_DOC, 11, **options) == ocr(FILE_DOC, 11, **options)
    assert ocr(pdf_doc(), 11, **options) == ocr(pdf_doc(), 11, **options)
    assert ocr(FILE_DOC, 11) != ocr(FILE_DOC, 12)


# --- other documents ------------------------------------------------------------------------------


@pytest.mark.parametrize("wrap", [False, True])
def test_inline_image_has_its_real_size(wrap):
    buffer = io.BytesIO()
    Image.new("RGB", (321, 123), (200, 30, 30)).save(buffer, format="PNG")
    uri = data_uri(buffer.getvalue(), "image/png")
    body = ocr({"type": "image_url", "image_url": {"url": uri} if wrap else uri})
    assert len(body["pages"]) == 1
    assert body["pages"][0]["dimensions"] == {"dpi": 72, "height": 123, "width": 321}
    assert body["usage_info"] == {"pages_processed": 1, "doc_size_bytes": len(buffer.getvalue())}


@pytest.mark.parametrize(
    "document",
    [FILE_DOC, {"type": "document_url", "document_url": "https://arxiv.org/pdf/2201.04234"}],
)
def test_unreadable_documents_are_synthetic_letter_pages(document):
    counts = set()
    for seed in range(12):
        body = ocr(document, seed)
        counts.add(len(body["pages"]))
        assert body["usage_info"] == {"pages_processed": len(body["pages"]), "doc_size_bytes": None}
        assert all(
            page["dimensions"] == {"dpi": 200, "height": 2200, "width": 1700} for page in body["pages"]
        )
        assert body["pages"][0]["markdown"].count("\n# ") == 1
    assert counts == {1, 2, 3}


@pytest.mark.parametrize(
    "url",
    [
        "data:application/pdf;base64,not base64!!",
        data_uri(b"%PDF-1.4\nthis is not really a pdf", "application/pdf"),
        data_uri(b"plain text, neither a PDF nor an image", "application/pdf"),
        "data:application/pdf,%25PDF-1.4",
        "ftp://example.com/report.pdf",
    ],
)
def test_undecodable_documents_are_refused(url):
    with pytest.raises(MistralError) as refused:
        ocr({"type": "document_url", "document_url": url})
    assert refused.value.status == 400
    assert refused.value.body["message"] == "Failed to fetch document"
    assert refused.value.body["type"] == "invalid_request_error"


def test_image_url_refuses_a_pdf():
    with pytest.raises(MistralError) as refused:
        ocr({"type": "image_url", "image_url": data_uri(REPORT, "application/pdf")})
    assert refused.value.status == 400


def test_remote_image_is_one_picture_page():
    body = ocr({"type": "image_url", "image_url": "https://example.com/scan.png"})
    assert len(body["pages"]) == 1
    assert body["pages"][0]["dimensions"]["dpi"] == 72
    assert body["usage_info"]["doc_size_bytes"] is None


def test_malformed_page_selection_is_refused():
    with pytest.raises(MistralError) as refused:
        ocr(pdf_doc(), pages="first,2")
    assert refused.value.status == 400


def test_text_layer_structure():
    lines = (
        "Introduction",
        "The method we propose is a new ap-",
        "proach to the problem of reading text.",
        "It is short.",
        "• first point",
        "• second point",
        "Results And Discussion",
        "We found that it works.",
    )
    assert pdf.blocks(lines) == [
        ("title", "# Introduction"),
        ("text", "The method we propose is a new approach to the problem of reading text. It is short."),
        ("list", "- first point\n- second point"),
        ("title", "## Results And Discussion"),
        ("text", "We found that it works."),
    ]
