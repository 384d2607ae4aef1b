"""Streaming reader for MediaWiki XML exports (``.xml`` or ``.xml.bz2``) in constant memory.

``iterparse`` hands over one ``<page>`` at a time; each is cleared (and detached from the root)
as soon as it has been read, so a 20 GB dump needs no more memory than its largest page.
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, iterparse


@dataclass(frozen=True)
class DumpPage:
    """One ``<page>`` of an export: its latest revision's wikitext and metadata."""

    title: str
    namespace: int
    page_id: int
    revision_id: int
    timestamp: str
    text: str
    redirect_to: str | None = None


class DumpReader:
    """Iterate the pages of an export; ``bytes_read``/``size`` drive a progress bar."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self._raw: IO[bytes] | None = None

    @property
    def bytes_read(self) -> int:
        """How far into the file (compressed bytes) the reader is."""
        return self._raw.tell() if self._raw is not None and not self._raw.closed else self.size

    def __iter__(self) -> Iterator[DumpPage]:
        with open(self.path, "rb") as raw:
            self._raw = raw
            with _decompressed(raw, self.path) as stream:
                yield from _pages(stream)


def _decompressed(raw: IO[bytes], path: Path) -> IO[bytes]:
    if path.suffix == ".bz2":
        return bz2.open(raw, "rb")
    if path.suffix == ".gz":
        return gzip.open(raw, "rb")
    return _Unclosing(raw)


class _Unclosing:
    """A plain file as a context manager that leaves closing to its owner."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def __enter__(self) -> IO[bytes]:
        return self._raw

    def __exit__(self, *_exc: object) -> None:
        return None


def _pages(stream: IO[bytes]) -> Iterator[DumpPage]:
    root: Element | None = None
    for event, element in iterparse(stream, events=("start", "end")):
        if root is None and event == "start":
            root = element
        if event != "end" or _local(element.tag) != "page":
            continue
        page = _read_page(element)
        element.clear()
        if root is not None and element in root:
            root.remove(element)  # the root keeps no finished page, so memory stays flat
        if page is not None:
            yield page


def _read_page(element: Element) -> DumpPage | None:
    fields = {_local(child.tag): child for child in element}
    revision = fields.get("revision")
    if revision is None or "title" not in fields:
        return None
    revision_fields = {_local(child.tag): child for child in revision}
    redirect = fields.get("redirect")
    return DumpPage(
        title=fields["title"].text or "",
        namespace=int(_text(fields.get("ns")) or 0),
        page_id=int(_text(fields.get("id")) or 0),
        revision_id=int(_text(revision_fields.get("id")) or 0),
        timestamp=_text(revision_fields.get("timestamp")),
        text=_text(revision_fields.get("text")),
        redirect_to=redirect.get("title") if redirect is not None else None,
    )


def _text(element: Element | None) -> str:
    return (element.text or "") if element is not None else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
