"""Mistral's ``POST /v1/ocr`` answer, made offline and deterministic.

Clients of the OCR endpoint walk the page objects: they look up the images and tables the markdown refers
to, crop with the bounding boxes, stitch pages back together by index. So the answer must be consistent
before it is clever: every id the markdown mentions exists, every box lies inside its page, the options
(page selection, image limits, table format, header and footer extraction, blocks, confidence scores,
annotations) change exactly the parts Mistral changes, and the same request always gets the same answer.

Where the truth is cheap it is used instead of invented: a PDF sent inline yields its real pages, page
sizes, text layers and links (see ``pdf``), an inline image its real pixel size. What would need a model
(scanned pages, remote documents, uploaded files) is plausible prose drawn from the request's seed.
"""

import base64
import binascii
import html
import io
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from faker import Faker

from mistral_wire.contract.chunks import FileChunk, ImageURLChunk
from mistral_wire.contract.errors import invalid_request
from mistral_wire.contract.requests import OCRRequest
from mistral_wire.contract.tools import ResponseFormat
from mockserver.sources.synthetic import pdf, schema_values
from mockserver.sources.synthetic.seeds import derive

FAILED_TO_FETCH = "Failed to fetch document"

_PDF_DPI = 200  # Mistral renders PDF pages at 200 dpi: a Letter page is 1700 x 2200
_IMAGE_DPI = 72
_LETTER = (612.0, 792.0)  # points
_PHOTO_SIZES = ((1024, 768), (1280, 960), (1240, 1754), (960, 1280))
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".avif")
_URL = re.compile(r"https?://[^\s<>()\[\]\"'|]+[^\s<>()\[\]\"'|.,;:!?]")
_MARKUP = re.compile(r"[#|*>\-]+|!?\[(?:img|tbl)-\d+\.\w+\]\((?:img|tbl)-\d+\.\w+\)")
_TOKEN = re.compile(r"</?[A-Za-z][^<>]*>|[^\s<]+")  # HTML tags, or words
_RANGE = re.compile(r"(\d+)(?:\s*-\s*(\d+))?")

# Built once (it takes a tenth of a second) and reseeded before every use, so answers do not depend on what
# ran before; like schema_values, this assumes answers are built one at a time (the server's event loop).
_FAKE = Faker("en_US")

_SENTENCES = (
    "{company} reported {pct}% growth in {city} over the last {period}.",
    "The committee reviewed the proposal to {bs} and approved it with minor changes.",
    "According to {name}, the {catch} programme reduced operating costs by {pct}%.",
    "This section explains how the team intends to {bs} during the next phase.",
    "These results are consistent with the figures published in {year}.",
    "Field work in {city} began in {month} and was completed {weeks} weeks later.",
    "All amounts are stated in {currency} unless noted otherwise.",
    "The {job} responsible for the project signed off on {date}.",
    "A second review is scheduled before the end of the fiscal year.",
    "Participants were asked to {bs} and to report any issues to {name}.",
    "Further analysis is needed before the approach can be extended to {country}.",
    "Compared with {year}, demand in {city} rose by {pct}% while costs remained stable.",
    "{name} noted that the {catch} approach works best when the inputs are clean.",
    "The board expects {company} to {bs} by the end of {month}.",
)


@dataclass(frozen=True)
class _PageSource:
    width: int  # pixels
    height: int
    dpi: int
    real: pdf.PdfPage | None  # the page's real text layer, or None when its content is synthetic
    image: bool = False  # the page is a picture (photo, scan), not a typeset page


@dataclass(frozen=True)
class _Document:
    count: int
    page: Callable[[int], _PageSource]
    size: int | None  # bytes, known only for inline documents


@dataclass
class _Element:
    """One block of a page, from which its markdown, image, table and block entries are all rendered."""

    kind: str  # a Mistral block type
    text: str = ""  # markdown, or plain text for header and footer
    rows: tuple[tuple[str, ...], ...] = ()  # tables, header row first
    aspect: float = 0.0  # images: width / height
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    ref: str | None = None  # img-N.jpeg / tbl-N.md once numbered
    seed: int = 0  # draws the block's confidence scores


@dataclass
class _Page:
    index: int
    source: _PageSource
    elements: list[_Element]


def answer(request: OCRRequest, model: str, seed: int) -> dict[str, Any]:
    """The response body Mistral sends for a validated OCR request; raises ``MistralError`` on refusal."""
    document = _load(request, seed)
    pages = [_build_page(document.page(i), i, seed) for i in _selected(request.pages, document.count)]
    _number(pages, request)
    rendered = [_render(page, request, seed) for page in pages]
    return {
        "pages": rendered,
        "model": model,
        "document_annotation": _document_annotation(request, rendered, seed),
        "usage_info": {"pages_processed": len(rendered), "doc_size_bytes": document.size},
    }


# --- the document ---------------------------------------------------------------------------------


def _load(request: OCRRequest, seed: int) -> _Document:
    document = request.document
    if isinstance(document, FileChunk):
        return _synthetic_document(seed, image=False)
    if isinstance(document, ImageURLChunk):
        image_url = document.image_url
        return _from_url(image_url if isinstance(image_url, str) else image_url.url, seed, image=True)
    return _from_url(document.document_url, seed, image=False)


def _from_url(url: str, seed: int, *, image: bool) -> _Document:
    if url.startswith("data:"):
        return _inline(_decode_data_uri(url), image_only=image)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_request(FAILED_TO_FETCH)
    return _synthetic_document(seed, image=image or parts.path.lower().endswith(_IMAGE_SUFFIXES))


def _decode_data_uri(url: str) -> bytes:
    header, comma, data = url.partition(",")
    if not comma or not header.lower().endswith(";base64"):
        raise invalid_request(FAILED_TO_FETCH)
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_request(FAILED_TO_FETCH) from None
    if not raw:
        raise invalid_request(FAILED_TO_FETCH)
    return raw


def _inline(raw: bytes, *, image_only: bool) -> _Document:
    """A document sent inline, recognised by its bytes rather than by the media type it claims."""
    if not image_only and b"%PDF-" in raw[:1024]:
        try:
            return _pdf_document(pdf.Pdf(raw), len(raw))
        except pdf.PdfError:
            raise invalid_request(FAILED_TO_FETCH) from None
    size = _image_size(raw)
    if size is None:
        raise invalid_request(FAILED_TO_FETCH)
    page = _PageSource(size[0], size[1], _IMAGE_DPI, None, image=True)
    return _Document(1, lambda _index: page, len(raw))


def _pdf_document(document: pdf.Pdf, size: int) -> _Document:
    def page(index: int) -> _PageSource:
        try:
            real = document.page(index)
        except pdf.PdfError:
            raise invalid_request(FAILED_TO_FETCH) from None
        width, height = (max(1, round(points / 72 * _PDF_DPI)) for points in (real.width, real.height))
        return _PageSource(width, height, _PDF_DPI, real if real.body else None)

    return _Document(document.count, page, size)


def _image_size(raw: bytes) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as image:
            width, height = image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def _synthetic_document(seed: int, *, image: bool) -> _Document:
    """Remote URLs and uploaded files cannot be read offline: a plausible document of 1 to 3 pages."""
    rng = random.Random(derive(seed, "document"))
    if image:
        width, height = rng.choice(_PHOTO_SIZES)
        photo = _PageSource(width, height, _IMAGE_DPI, None, image=True)
        return _Document(1, lambda _index: photo, None)
    width, height = (round(points / 72 * _PDF_DPI) for points in _LETTER)
    letter = _PageSource(width, height, _PDF_DPI, None)
    return _Document(rng.randint(1, 3), lambda _index: letter, None)


def _selected(pages: str | list[int] | None, count: int) -> list[int]:
    """Page indices to return, in document order; indices past the end are ignored, as Mistral does."""
    if pages is None or pages == "":
        return list(range(count))
    wanted: set[int] = set()
    if isinstance(pages, list):
        wanted.update(pages)
    else:
        for part in pages.split(","):
            match = _RANGE.fullmatch(part.strip())
            if match is None:
                raise invalid_request(f"Invalid pages format: {pages!r}")
            first = int(match.group(1))
            last = int(match.group(2)) if match.group(2) else first
            wanted.update(range(first, min(last, count - 1) + 1))
    return sorted(i for i in wanted if 0 <= i < count)


# --- page content ---------------------------------------------------------------------------------


def _build_page(source: _PageSource, index: int, seed: int) -> _Page:
    if source.real is not None:
        elements = _real_elements(source.real)
    else:
        elements = _synthetic_elements(source, index, seed)
    _layout(elements, source)
    for number, element in enumerate(elements):
        element.seed = derive(seed, "confidence", index, number)
    return _Page(index, source, elements)


def _real_elements(real: pdf.PdfPage) -> list[_Element]:
    elements = [_Element(kind, markdown) for kind, markdown in pdf.blocks(real.body)]
    # Figures sit somewhere in the flow; after the opening block is as good a guess as any offline.
    figures = [_Element("image", aspect=width / height) for width, height in real.images if width and height]
    elements[1:1] = figures
    if real.header:
        elements.insert(0, _Element("header", real.header))
    if real.footer:
        elements.append(_Element("footer", real.footer))
    return elements


def _synthetic_elements(source: _PageSource, index: int, seed: int) -> list[_Element]:
    title, running_header = _document_titles(seed)
    rng = random.Random(derive(seed, "page", index))
    _FAKE.seed_instance(derive(seed, "page-prose", index))
    elements: list[_Element] = []
    if not source.image:
        elements.append(_Element("header", running_header))
    heading = f"# {title}" if index == 0 else f"## {_FAKE.catch_phrase().title()}"
    elements.append(_Element("title", heading))
    elements.append(_Element("text", _paragraph(rng)))
    if rng.random() < 0.35:
        elements.append(
            _Element("list", "\n".join(f"- {_FAKE.bs().capitalize()}" for _ in range(rng.randint(3, 5))))
        )
    elements.append(_Element("text", _paragraph(rng, link=rng.random() < 0.3)))
    if rng.random() < 0.45:
        elements.append(_Element("image", aspect=rng.choice((4 / 3, 16 / 9, 1.0, 3 / 4))))
        elements.append(_Element("caption", f"Figure {index + 1}: {_FAKE.catch_phrase()}."))
    if rng.random() < 0.4:
        elements.append(_Element("table", rows=_table_rows(rng)))
    if rng.random() < 0.5:
        elements.append(_Element("text", _paragraph(rng)))
    if not source.image:
        elements.append(_Element("footer", f"Page {index + 1}"))
    return elements


def _document_titles(seed: int) -> tuple[str, str]:
    """The document's title and its running header, shared by all its pages."""
    _FAKE.seed_instance(derive(seed, "titles"))
    company = _FAKE.company()
    title = f"{_FAKE.catch_phrase().title()}: {_FAKE.bs().capitalize()}"
    return title, f"{company} {2015 + derive(seed, 'year') % 10} Annual Report"


def _paragraph(rng: random.Random, *, link: bool = False) -> str:
    sentences = [_sentence(rng) for _ in range(rng.randint(2, 5))]
    if link:
        sentences.append(f"More details are available at {_FAKE.url()}reports.")
    return " ".join(sentences)


def _sentence(rng: random.Random) -> str:
    return rng.choice(_SENTENCES).format(
        company=_FAKE.company(),
        pct=rng.randint(2, 48),
        city=_FAKE.city(),
        period=rng.choice(("quarter", "two quarters", "year", "eighteen months")),
        bs=_FAKE.bs(),
        name=_FAKE.name(),
        catch=_FAKE.catch_phrase().lower(),
        year=rng.randint(2015, 2024),
        month=_FAKE.month_name(),
        weeks=rng.randint(2, 12),
        currency=_FAKE.currency_code(),
        job=_FAKE.job().lower(),
        date=f"{_FAKE.month_name()} {rng.randint(1, 28)}, {rng.randint(2015, 2024)}",
        country=_FAKE.country(),
    )


def _table_rows(rng: random.Random) -> tuple[tuple[str, ...], ...]:
    rows = [("Region", "Lead", "Q1", "Q2")]
    for _ in range(rng.randint(2, 4)):
        rows.append((_FAKE.city(), _FAKE.name(), f"{rng.randint(10, 999):,}", f"{rng.randint(10, 999):,}"))
    return tuple(rows)


# --- geometry -------------------------------------------------------------------------------------


def _layout(elements: list[_Element], source: _PageSource) -> None:
    """Stack the blocks down the page in reading order, squeezed to fit; boxes are in page pixels."""
    width, height, unit = source.width, source.height, source.dpi / 72  # pixels per point
    left, right = round(width * 0.08), width - round(width * 0.08)
    top, bottom = round(height * 0.06), height - round(height * 0.06)
    line, usable, body = 14 * unit, right - left, bottom - top
    per_line = max(1, int(usable / (6 * unit)))
    extents = [_extent(element, line, per_line, usable, body) for element in elements]
    gap = line * 0.8
    needed = sum(h for _w, h in extents) + gap * max(0, len(elements) - 1)
    scale = min(1.0, body / needed) if needed else 1.0
    y = float(top)
    for element, (extent_x, extent_y) in zip(elements, extents, strict=True):
        x0 = left + (usable - extent_x) / 2 if element.kind == "image" else left
        y1 = y + extent_y * scale
        element.box = (_clamp(x0, width), _clamp(y, height), _clamp(x0 + extent_x, width), _clamp(y1, height))
        y = y1 + gap * scale


def _extent(element: _Element, line: float, per_line: int, usable: int, body: int) -> tuple[float, float]:
    """Width and height of a block before squeezing, from its kind and the length of its text."""
    if element.kind == "image":
        image_height = min(usable * 0.6 / element.aspect, body * 0.4)
        return image_height * element.aspect, image_height
    if element.kind == "table":
        return usable, len(element.rows) * line * 1.5
    rows = element.text.splitlines() or [""]
    size = 1.6 if element.kind == "title" else 1.0
    lines = sum(max(1, -(-len(row) * size // per_line)) for row in rows)
    longest = max(len(row) for row in rows) * size
    extent_x = usable if element.kind == "list" else min(usable, longest * usable / per_line)
    return extent_x, lines * line * size


def _clamp(value: float, limit: int) -> int:
    return max(0, min(limit, round(value)))


def _number(pages: list[_Page], request: OCRRequest) -> None:
    """Give images and tables their document-wide ids, dropping the images the request's limits exclude."""
    images = tables = 0
    limit = None if request.image_limit is None else max(0, request.image_limit)
    minimum = request.image_min_size or 0
    for page in pages:
        kept: list[_Element] = []
        for element in page.elements:
            if element.kind == "image":
                x0, y0, x1, y1 = element.box
                if (x1 - x0 < minimum and y1 - y0 < minimum) or (limit is not None and images >= limit):
                    continue
                element.ref = f"img-{images}.jpeg"
                images += 1
            elif element.kind == "table" and request.table_format:
                element.ref = f"tbl-{tables}.{'md' if request.table_format == 'markdown' else 'html'}"
                tables += 1
            kept.append(element)
        page.elements = kept


# --- rendering ------------------------------------------------------------------------------------


def _render(page: _Page, request: OCRRequest, seed: int) -> dict[str, Any]:
    extracted = {"header": request.extract_header, "footer": request.extract_footer}
    segments = [(e, _segment(e)) for e in page.elements if not extracted.get(e.kind)]
    markdown, offsets = _join(segments)
    granularity = request.confidence_scores_granularity
    tables = [
        _table_object(e, request.table_format, granularity)
        for e in page.elements
        if e.kind == "table" and e.ref
    ]
    source = page.source
    return {
        "index": page.index,
        "markdown": markdown,
        "images": [_image_object(e, request, seed) for e in page.elements if e.kind == "image"],
        "tables": tables,
        "hyperlinks": _hyperlinks(page, markdown, tables),
        "header": _extracted(page, "header") if request.extract_header else None,
        "footer": _extracted(page, "footer") if request.extract_footer else None,
        "dimensions": {"dpi": source.dpi, "height": source.height, "width": source.width},
        "confidence_scores": _page_confidence(page, segments, offsets, granularity),
        "blocks": [_block(e, request) for e in page.elements] if request.include_blocks else None,
    }


def _content(element: _Element, table_format: str | None = None) -> str:
    """What a block holds: its markdown, a table in the requested format, or an image reference."""
    if element.kind == "image":
        return f"![{element.ref}]({element.ref})"
    if element.kind == "table":
        return _html_table(element.rows) if table_format == "html" else _markdown_table(element.rows)
    return element.text


def _segment(element: _Element) -> str:
    """A block as it appears in the page's markdown: extracted tables are linked, not inlined."""
    if element.kind == "table" and element.ref:
        return f"[{element.ref}]({element.ref})"
    return _content(element)


def _join(segments: list[tuple[_Element, str]]) -> tuple[str, list[int]]:
    offsets, position = [], 0
    for _element, text in segments:
        offsets.append(position)
        position += len(text) + 2
    return "\n\n".join(text for _element, text in segments), offsets


def _markdown_table(rows: tuple[tuple[str, ...], ...]) -> str:
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join("---" for _ in rows[0]) + " |")
    return "\n".join(lines)


def _html_table(rows: tuple[tuple[str, ...], ...]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _table_object(element: _Element, table_format: str | None, granularity: str | None) -> dict[str, Any]:
    content = _content(element, table_format)
    table: dict[str, Any] = {"id": element.ref, "content": content, "format": table_format}
    if granularity == "word":
        table["word_confidence_scores"] = _word_scores(element, content, 0)
    return table


def _image_object(element: _Element, request: OCRRequest, seed: int) -> dict[str, Any]:
    x0, y0, x1, y1 = element.box
    return {
        "id": element.ref,
        "top_left_x": x0,
        "top_left_y": y0,
        "bottom_right_x": x1,
        "bottom_right_y": y1,
        "image_base64": _jpeg(x1 - x0, y1 - y0, derive(seed, element.ref))
        if request.include_image_base64
        else None,
        "image_annotation": _annotation(
            request.bbox_annotation_format, derive(seed, "bbox", element.ref), ""
        ),
    }


def _jpeg(width: int, height: int, seed: int) -> str:
    """A small real JPEG with the crop's proportions; the pixels themselves are not the document's."""
    from PIL import Image

    scale = 48 / max(width, height, 1)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    colour = tuple(random.Random(seed).randrange(80, 220) for _ in range(3))
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _hyperlinks(page: _Page, markdown: str, tables: list[dict[str, Any]]) -> list[str]:
    found = list(page.source.real.links) if page.source.real else []
    for text in (markdown, *(table["content"] for table in tables)):
        found.extend(_URL.findall(text))
    return list(dict.fromkeys(found))


def _extracted(page: _Page, kind: str) -> str | None:
    texts = [element.text for element in page.elements if element.kind == kind]
    return "\n".join(texts) if texts else None


def _block(element: _Element, request: OCRRequest) -> dict[str, Any]:
    x0, y0, x1, y1 = element.box
    content = _content(element, request.table_format)
    block: dict[str, Any] = {
        "top_left_x": x0,
        "top_left_y": y0,
        "bottom_right_x": x1,
        "bottom_right_y": y1,
        "content": content,
    }
    if element.kind == "image":
        block["image_id"] = element.ref
    scored = request.confidence_scores_granularity == "block"
    block["confidence_scores"] = _block_confidence(element, content) if scored else None
    block["type"] = element.kind
    if element.kind == "table":
        block["table_id"] = element.ref
    return block


# --- confidence -----------------------------------------------------------------------------------


def _words(text: str) -> list[re.Match[str]]:
    """The words of markdown or HTML, without markup, tags and references."""
    return [
        m for m in _TOKEN.finditer(text) if not m.group().startswith("<") and not _MARKUP.fullmatch(m.group())
    ]


def _confidences(element: _Element, count: int) -> list[float]:
    """Mostly near-certain words with the occasional doubtful one, as OCR models score them."""
    rng = random.Random(element.seed)
    return [round(0.999 - rng.random() ** 24 * 0.4, 4) for _ in range(count)]


def _word_scores(element: _Element, text: str, offset: int) -> list[dict[str, Any]]:
    words = _words(text)
    return [
        {"text": m.group(), "confidence": confidence, "start_index": offset + m.start()}
        for m, confidence in zip(words, _confidences(element, len(words)), strict=True)
    ]


def _page_confidence(
    page: _Page, segments: list[tuple[_Element, str]], offsets: list[int], granularity: str | None
) -> dict[str, Any] | None:
    if granularity is None:
        return None
    words: list[dict[str, Any]] = []
    for (element, text), offset in zip(segments, offsets, strict=True):
        words.extend(_word_scores(element, text, offset))
    values = [word["confidence"] for word in words] or [_type_confidence(e) for e in page.elements] or [0.99]
    scores: dict[str, Any] = {
        "average_page_confidence_score": round(sum(values) / len(values), 4),
        "minimum_page_confidence_score": min(values),
    }
    if granularity == "word":
        scores["word_confidence_scores"] = words
    return scores


def _block_confidence(element: _Element, content: str) -> dict[str, Any]:
    values = _confidences(element, len(_words(content))) if element.kind != "image" else []
    return {
        "average_content_confidence_score": round(sum(values) / len(values), 4) if values else None,
        "minimum_content_confidence_score": min(values) if values else None,
        "block_type_confidence_score": _type_confidence(element),
    }


def _type_confidence(element: _Element) -> float:
    return round(0.9 + random.Random(element.seed + 1).random() * 0.0999, 4)


# --- annotations ----------------------------------------------------------------------------------


def _annotation(response_format: ResponseFormat | None, seed: int, context: str) -> str | None:
    """A JSON string valid against the requested schema, as the annotation model would return."""
    if (
        response_format is None
        or response_format.type != "json_schema"
        or response_format.json_schema is None
    ):
        return None
    value = schema_values.generate(response_format.json_schema.schema_, seed, context)
    return json.dumps(value, ensure_ascii=False)


def _document_annotation(request: OCRRequest, pages: list[dict[str, Any]], seed: int) -> str | None:
    context = " ".join([request.document_annotation_prompt or "", *(page["markdown"] for page in pages)])
    return _annotation(
        request.document_annotation_format, derive(seed, "document_annotation"), context[:4000]
    )
