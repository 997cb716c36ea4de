"""The real parts of an inline PDF: page count, page sizes, text layers, links and embedded images.

A client that sends its own PDF inline can tell at a glance whether an OCR answer belongs to it: the number
of pages, their proportions and the words on them. Those are cheap to read with pypdf, so the mock reads them
rather than inventing them; only what needs an actual OCR model (scanned pages, figure positions) stays
synthetic. Pages are read lazily, since a request usually selects a few pages of a long document.

The text layer comes out of pypdf as bare lines; ``blocks`` rebuilds the structure Mistral's markdown shows
(title, paragraphs, lists) with a few conservative rules.
"""

import io
import re
from dataclasses import dataclass
from typing import Any

import pypdf

_PAGE_NUMBER = re.compile(r"(?i)(page\s+)?[-\u2013(]?\s*\d{1,4}\s*[-\u2013)]?(\s*(of|/)\s*\d{1,4})?")
_BULLET = re.compile(r"^(?:[•◦▪●‣*\u2013-]|\d{1,3}[.)])\s+")
_SENTENCE_END = (".", "!", "?", ":", ";")
# Running headers repeat on neighbouring pages up to their numbers: "Report 2024 — 3" vs "Report 2024 — 4".
_DIGITS = re.compile(r"\d+")


class PdfError(ValueError):
    """The bytes are not a PDF that can be read."""


@dataclass(frozen=True)
class PdfPage:
    width: float  # points, as displayed (after /Rotate)
    height: float
    header: str | None
    footer: str | None
    body: tuple[str, ...]  # text lines between header and footer
    links: tuple[str, ...]  # targets of URI link annotations
    images: tuple[tuple[int, int], ...]  # pixel sizes of the images the page draws


class Pdf:
    """A parsed PDF whose pages are read on demand."""

    def __init__(self, raw: bytes) -> None:
        # pypdf's failures on hostile input are not limited to its own exception types.
        try:
            self._reader = pypdf.PdfReader(io.BytesIO(raw), strict=False)
            if self._reader.is_encrypted:
                self._reader.decrypt("")
            self.count = len(self._reader.pages)
        except Exception as exc:
            raise PdfError(str(exc)) from exc
        if self.count == 0:
            raise PdfError("the document has no pages")
        self._lines: dict[int, tuple[str, ...]] = {}

    def page(self, index: int) -> PdfPage:
        try:
            page = self._reader.pages[index]
            box = page.mediabox
            width, height = abs(float(box.width)), abs(float(box.height))
            if int(page.get("/Rotate", 0) or 0) % 180:
                width, height = height, width
        except Exception as exc:
            raise PdfError(str(exc)) from exc
        # A page's only line is its content, never a running header or footer.
        lines = list(self.lines(index))
        header = lines.pop(0) if len(lines) > 1 and self._repeats(index, 0) else None
        footer = None
        if len(lines) > 1 and (self._repeats(index, -1) or _PAGE_NUMBER.fullmatch(lines[-1])):
            footer = lines.pop()
        return PdfPage(width, height, header, footer, tuple(lines), _links(page), _images(page))

    def lines(self, index: int) -> tuple[str, ...]:
        """The non-empty lines of a page's text layer; none when the page is a scan or unreadable."""
        if index not in self._lines:
            try:
                text = self._reader.pages[index].extract_text() or ""
            except Exception:
                text = ""
            self._lines[index] = tuple(line.strip() for line in text.splitlines() if line.strip())
        return self._lines[index]

    def _repeats(self, index: int, position: int) -> bool:
        """Whether a page's first (0) or last (-1) line recurs at the same place on a neighbouring page."""
        line = self.lines(index)[position]
        if len(line) > 100:
            return False
        shape = _DIGITS.sub("#", line.lower())
        for other in (index - 1, index + 1):
            if 0 <= other < self.count:
                lines = self.lines(other)
                if len(lines) > 1 and _DIGITS.sub("#", lines[position].lower()) == shape:
                    return True
        return False


def _links(page: Any) -> tuple[str, ...]:
    found: list[str] = []
    try:
        for ref in page.get("/Annots") or ():
            annotation = ref.get_object()
            action = annotation.get("/A")
            action = action.get_object() if action is not None else None
            if annotation.get("/Subtype") == "/Link" and action and action.get("/S") == "/URI":
                found.append(str(action.get("/URI")))
    except Exception:
        pass
    return tuple(dict.fromkeys(found))


def _images(page: Any) -> tuple[tuple[int, int], ...]:
    """Sizes of the image XObjects on the page; their positions would need the content stream."""
    sizes: list[tuple[int, int]] = []
    try:
        resources = page.get("/Resources")
        objects = resources.get_object().get("/XObject") if resources is not None else None
        for ref in (objects.get_object() if objects is not None else {}).values():
            image = ref.get_object()
            if image.get("/Subtype") == "/Image":
                sizes.append((int(image["/Width"]), int(image["/Height"])))
    except Exception:
        return ()
    return tuple(sizes)


def blocks(lines: tuple[str, ...]) -> list[tuple[str, str]]:
    """Typed markdown blocks (``title``, ``text``, ``list``) from the lines of a text layer."""
    out: list[tuple[str, str]] = []
    paragraph: list[str] = []
    items: list[str] = []
    longest = max((len(line) for line in lines), default=0)

    def flush() -> None:
        if paragraph:
            out.append(("text", _join(paragraph)))
            paragraph.clear()
        if items:
            out.append(("list", "\n".join(items)))
            items.clear()

    for number, line in enumerate(lines):
        if _BULLET.match(line):
            if paragraph:
                flush()
            items.append(_list_item(line))
        elif number == 0 and _is_title(line, first=True):
            out.append(("title", "# " + line))
        elif not paragraph and _is_title(line, first=False) and number + 1 < len(lines):
            flush()
            out.append(("title", "## " + line))
        else:
            if items:
                flush()
            paragraph.append(line)
            if line.endswith(_SENTENCE_END) and len(line) < 0.75 * longest:
                flush()
    flush()
    return out


def _is_title(line: str, *, first: bool) -> bool:
    if not any(c.isalpha() for c in line) or line.endswith((".", ",", ";")):
        return False
    words = line.split()
    if first:
        return len(line) <= 80 and len(words) <= 12 and (line[0].isupper() or line[0].isdigit())
    capitalised = sum(1 for word in words if word[:1].isupper() or not word[:1].isalpha())
    return len(words) <= 8 and capitalised >= 0.75 * len(words)


def _list_item(line: str) -> str:
    marker = _BULLET.match(line)
    assert marker is not None
    token = marker.group(0).strip()
    rest = line[marker.end() :]
    return f"{token} {rest}" if token[0].isdigit() else f"- {rest}"


def _join(lines: list[str]) -> str:
    """One paragraph from wrapped lines, mending words hyphenated across a line break."""
    text = lines[0]
    for line in lines[1:]:
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return text
