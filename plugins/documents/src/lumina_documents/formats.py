"""File formats → titled sections of text, each knowing its heading path and, for PDFs, its page.

One well-kept parser per format: pypdf (the PDF text layer), python-docx, markdown-it-py (to
HTML, then read like HTML), BeautifulSoup for HTML, the stdlib's csv. :func:`detect` names the
format from the file name and its first bytes when the file arrives, so an unsupported file is
refused at once (415); :func:`parse` runs later, on the task queue, and raises
:class:`Unreadable` with a reason a person can act on when the content cannot be read (a corrupt
or encrypted PDF, a scan without a text layer, a binary file named ``.txt``).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from lumina_core.errors import LuminaError

if TYPE_CHECKING:
    from bs4 import BeautifulSoup

FORMATS = ("pdf", "docx", "markdown", "html", "csv", "text")
_EXTENSIONS = {
    ".pdf": "pdf", ".docx": "docx", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
    ".csv": "csv", ".txt": "text", ".text": "text", ".log": "text", ".rst": "text",
}
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "markdown": "text/markdown", "html": "text/html", "csv": "text/csv", "text": "text/plain",
}
CSV_ROWS_PER_SECTION = 25
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = frozenset({"p", "div", "li", "tr", "br", "pre", "blockquote", "section", "article", "table", "ul", "ol",
                     "dt", "dd", "figcaption", "hr", *_HEADINGS})
_DOCX_HEADING = re.compile(r"Heading (\d)")
_HIDDEN = ("script", "style", "noscript", "template", "head", "nav", "svg")


class UnsupportedFormat(LuminaError):
    type = "validation_error"
    status = 415


class Unreadable(Exception):
    """The file's content cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]
    text: str
    page: int | None = None


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]
    pages: int


def detect(name: str, head: bytes) -> str:
    """The format of a file called ``name`` starting with ``head``; 415 when none fits."""
    suffix = PurePath(name).suffix.lower()
    if head.startswith(b"%PDF-"):
        return "pdf"
    found = _EXTENSIONS.get(suffix)
    if found == "pdf":
        raise UnsupportedFormat(f"'{name}' is named .pdf but does not start like a PDF (%PDF-): is it really one?",
                                field="files")
    if found is not None:
        return found
    known = ", ".join(sorted(_EXTENSIONS))
    raise UnsupportedFormat(f"'{name}': files of type '{suffix or 'without an extension'}' are not supported; "
                            f"send one of {known}", field="files")


def parse(data: bytes, kind: str, name: str) -> Document:
    """Read a file of format ``kind`` (see :func:`detect`) into sections; :class:`Unreadable` if not."""
    stem = PurePath(name).stem or name
    document = _READERS[kind](data, stem)
    if not any(s.text.strip() for s in document.sections):
        raise Unreadable(_EMPTY.get(kind, f"'{name}' holds no text to index"))
    return document


_EMPTY = {"pdf": "the PDF has no text layer (a scanned document?): run it through OCR and upload the result"}


# --- PDF -------------------------------------------------------------------------------------


def _pdf(data: bytes, stem: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("the PDF is protected by a password: remove the protection and upload it again")
        texts = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise Unreadable(f"the PDF is damaged and cannot be read ({type(exc).__name__}: {exc}); "
                         "export or save it again and upload the new copy") from None
    sections = tuple(Section((f"Page {n}",), reflow(text), page=n) for n, text in enumerate(texts, start=1)
                     if text.strip())
    return Document(title or stem, sections, pages=len(texts))


# --- DOCX ------------------------------------------------------------------------------------


def _docx(data: bytes, stem: str) -> Document:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        title = (document.core_properties.title or "").strip()
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"the DOCX file is damaged or not a Word document ({exc}); save it again as .docx") from None
    outline = _Outline()
    for block in blocks:
        if isinstance(block, Table):
            for row in block.rows:
                outline.line(" | ".join(cell.text.strip() for cell in row.cells))
            continue
        style = (block.style.name if block.style is not None else "") or ""
        heading = _DOCX_HEADING.fullmatch(style)
        if style == "Title" and not title:
            title = block.text.strip()
        elif heading:
            outline.heading(int(heading.group(1)), block.text.strip())
        else:
            outline.line(block.text)
    return Document(title or stem, outline.sections(), pages=0)


# --- HTML and Markdown -----------------------------------------------------------------------


def _html(data: bytes, stem: str) -> Document:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode(data), "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    return _from_soup(soup, title or "", stem)


def _markdown(data: bytes, stem: str) -> Document:
    from bs4 import BeautifulSoup
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(decode(data))
    return _from_soup(BeautifulSoup(html, "html.parser"), "", stem)


def _from_soup(soup: BeautifulSoup, title: str, stem: str) -> Document:
    """Sections under the heading path, text from every other node (headings' own text excepted)."""
    from bs4 import Comment, NavigableString, Tag

    for hidden in soup(_HIDDEN):
        hidden.decompose()
    outline = _Outline()
    parts: list[str] = []
    for node in (soup.body or soup).descendants:
        if isinstance(node, Tag) and node.name in _HEADINGS:
            outline.text("".join(parts))
            parts = []
            outline.heading(int(node.name[1]), node.get_text(" ", strip=True))
        elif isinstance(node, Tag) and node.name in _BLOCKS:
            parts.append("\n")
        elif isinstance(node, NavigableString) and not isinstance(node, Comment) and node.find_parent(_HEADINGS) is None:
            parts.append(str(node))
    outline.text("".join(parts))
    sections = outline.sections()
    if not title and outline.first_h1:  # the first top heading names the document, not a section
        title = outline.first_h1
        sections = tuple(Section(s.path[1:] if s.path[:1] == (title,) else s.path, s.text) for s in sections)
    return Document(title or stem, sections, pages=0)


# --- CSV and plain text ----------------------------------------------------------------------


def _csv(data: bytes, stem: str) -> Document:
    """Each row as one line of ``column: value`` pairs, a section per CSV_ROWS_PER_SECTION rows."""
    text = decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise Unreadable(f"the CSV cannot be read ({exc}); check its quoting") from None
    if not rows:
        return Document(stem, (), pages=0)
    header, body = rows[0], rows[1:] or [rows[0]]
    lines = ["; ".join(f"{column.strip() or f'column {i + 1}'}: {value.strip()}"
                       for i, (column, value) in enumerate(zip(header, row)) if value.strip()) for row in body]
    sections = tuple(
        Section((f"Rows {start + 2}-{start + 1 + len(chunk)}",), "\n".join(chunk))
        for start in range(0, len(lines), CSV_ROWS_PER_SECTION)
        if (chunk := lines[start : start + CSV_ROWS_PER_SECTION])
    )
    return Document(stem, sections, pages=0)


def _text(data: bytes, stem: str) -> Document:
    if b"\x00" in data[:65536]:
        raise Unreadable("the file is binary, not text: upload it in its own format (PDF, DOCX ...) or as text")
    return Document(stem, (Section((), reflow(decode(data))),), pages=0)


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1252, the usual other encoding of text files."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def reflow(text: str) -> str:
    """Lines of one paragraph joined (a word hyphenated at a line's end joined back), paragraphs
    one per line: text laid out in fixed-width lines reads as its sentences."""
    paragraphs = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    joined = (re.sub(r"-\n(?=[a-z])", "", p) for p in paragraphs)
    return "\n".join(line for p in joined if (line := " ".join(p.split())))


class _Outline:
    """Text gathered under the current heading path; a heading closes the section before it."""

    def __init__(self) -> None:
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []
        self._sections: list[Section] = []
        self.first_h1 = ""

    def heading(self, level: int, title: str) -> None:
        self._flush()
        if level == 1 and not self.first_h1:
            self.first_h1 = title
        self._path = [(lvl, t) for lvl, t in self._path if lvl < level] + ([(level, title)] if title else [])

    def line(self, text: str) -> None:
        self._lines.append(text)

    def text(self, text: str) -> None:
        self._lines.extend(text.split("\n"))

    def sections(self) -> tuple[Section, ...]:
        self._flush()
        return tuple(self._sections)

    def _flush(self) -> None:
        text = "\n".join(line for raw in self._lines if (line := " ".join(raw.split())))
        if text:
            self._sections.append(Section(tuple(t for _, t in self._path), text))
        self._lines = []


_READERS: dict[str, Callable[[bytes, str], Document]] = {
    "pdf": _pdf, "docx": _docx, "markdown": _markdown, "html": _html, "csv": _csv, "text": _text,
}

