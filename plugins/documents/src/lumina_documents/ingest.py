"""Ingestion: a file's bytes → its sections → passages in the user's brain, one part at a time.

It runs as a task (``documents.ingest``) on the queue, so it survives the request, is retried with
backoff when a store is briefly away, and can run on any ``lumina worker``. A document is indexed
as parts of a few pages (articles ``<file id>:<n>`` in the knowledge scope of its user and brain):
the file's progress moves part by part, and a task run again after its worker died finds the
parts already indexed unchanged and carries on from the first one missing, so nothing is lost or
counted twice. A file deleted meanwhile has whatever the run indexed removed again.

A file is ``ready`` once all its passages are searchable by their words; their dense vectors
follow in the background (the knowledge scope's backfill, which also completes whatever a dead
worker left), so a file is found seconds after upload even when the embedder is busy. Until its
vectors are in, a passage ranks by its words alone; a note (a few lines) is embedded at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from prometheus_client import Counter, Histogram

from lumina_core.services.bus.events import now_iso
from lumina_documents.formats import Document, Section, Unreadable, parse
from lumina_documents.library import FAILED, PROCESSING, QUEUED, READY, Library, scope_name

log = logging.getLogger("lumina.documents")

FILES = Counter("lumina_documents_files_total", "Files and notes that reached a final state.", ["state", "format"])
PAGES = Counter("lumina_documents_pages_total", "Pages (sections for formats without pages) indexed.")
PASSAGES = Counter("lumina_documents_passages_total", "Passages indexed from users' files and notes.")
INGEST_SECONDS = Histogram("lumina_documents_ingest_seconds", "Time from a file's first byte read to ready.",
                           ["format"], buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))

#: Words per part: about ten passages, a few pages; small enough for progress to move steadily.
PART_WORDS = 2000
PARSED_SHARE = 0.1

Scope = Callable[[str], Awaitable[Any]]
Publish = Callable[[str, Mapping[str, Any]], Awaitable[None]]
Progress = Callable[[float, str], Awaitable[None]]


class Ingestor:
    """Reads files of the library into their brains' knowledge scopes."""

    def __init__(self, library: Library, scope: Scope, publish: Publish) -> None:
        self.library = library
        self.scope = scope
        self.publish = publish

    async def ingest(self, user_id: str, file_id: str, progress: Progress | None = None, *,
                     dense_now: bool = False) -> dict[str, Any]:
        """Index one file (idempotent); ``{"state", "passages"}``. An unreadable file ends
        ``failed`` with the reason (a retry would read it the same way); any other error is
        raised for the queue to retry. ``dense_now``: embed before ``ready`` (for a short note,
        so it ranks by meaning at once too)."""
        record = self.library.get(user_id, file_id)
        if record is None:
            return {"state": "deleted", "passages": 0}
        started = time.perf_counter()
        self.library.move(file_id, state=PROCESSING, reason=None)
        try:
            document = await asyncio.to_thread(parse, self.library.blob(file_id), record["format"], record["name"])
        except Unreadable as exc:
            return await self._failed(record, str(exc))
        parts = split(document)
        self.library.move(file_id, parts=max(len(parts), record["parts"]), progress=PARSED_SHARE)
        scope = await self.scope(scope_name(user_id, record["brain_id"]))
        passages = 0
        for number, part in enumerate(parts):
            indexed = await scope.index_article(article(record, document, part, number), dense_now=dense_now)
            passages += indexed["passages"]
            if self.library.get(user_id, file_id) is None:
                await remove_parts(scope, file_id, len(parts))
                return {"state": "deleted", "passages": 0}
            done = PARSED_SHARE + (1 - PARSED_SHARE) * (number + 1) / len(parts)
            self.library.move(file_id, progress=round(done, 4))
            if progress is not None:
                await progress(done, f"part {number + 1} of {len(parts)}")
        for stale in range(len(parts), record["parts"]):  # a shorter new version: drop the old tail
            await scope.remove_article(part_id(file_id, stale))
        pages = document.pages or len(document.sections)
        self.library.move(file_id, state=READY, reason=None, progress=1.0, pages=pages, passages=passages,
                          parts=len(parts), ready_at=now_iso())
        FILES.labels(READY, record["format"]).inc()
        PAGES.inc(pages)
        PASSAGES.inc(passages)
        INGEST_SECONDS.labels(record["format"]).observe(time.perf_counter() - started)
        await self.publish("documents.file_indexed", {"file_id": file_id, "user_id": user_id,
                                                    "brain_id": record["brain_id"], "passages": passages})
        return {"state": READY, "passages": passages}

    async def attempt_failed(self, user_id: str, file_id: str, error: BaseException, *, final: bool) -> None:
        """Say on the file why this attempt failed: ``failed`` after the last one, else queued again."""
        record = self.library.get(user_id, file_id)
        if record is None:
            return
        reason = f"{type(error).__name__}: {error}"
        if final:
            await self._failed(record, f"indexing failed after every retry ({reason})")
        else:
            self.library.move(file_id, state=QUEUED, reason=f"retrying after: {reason}")

    def handed_back(self, user_id: str, file_id: str) -> None:
        """The worker is stopping: the file waits for the next one."""
        if self.library.get(user_id, file_id) is not None:
            self.library.move(file_id, state=QUEUED)

    async def _failed(self, record: Mapping[str, Any], reason: str) -> dict[str, Any]:
        self.library.move(record["id"], state=FAILED, reason=reason, progress=0.0)
        FILES.labels(FAILED, record["format"]).inc()
        log.info("file %s (%s) failed: %s", record["id"], record["name"], reason)
        await self.publish("documents.file_failed", {"file_id": record["id"], "user_id": record["user_id"],
                                                     "reason": reason})
        return {"state": FAILED, "passages": 0, "reason": reason}


def split(document: Document, words: int = PART_WORDS) -> list[list[Section]]:
    """Consecutive sections in parts of about ``words`` words (a section is never split)."""
    parts: list[list[Section]] = []
    count = 0
    for section in document.sections:
        if not parts or count >= words:
            parts.append([])
            count = 0
        parts[-1].append(section)
        count += len(section.text.split())
    return parts


def part_id(file_id: str, number: int) -> str:
    return f"{file_id}:{number}"


def article(record: Mapping[str, Any], document: Document, sections: Sequence[Section], number: int) -> dict[str, Any]:
    """One part as the knowledge service takes it; every passage's payload names its file and page."""
    return {
        "id": part_id(record["id"], number),
        "title": document.title,
        "url": f"/files/{record['id']}",
        "source": "documents",
        "metadata": {"file_id": record["id"], "file_name": record["name"], "brain_id": record["brain_id"],
                     "kind": record["kind"]},
        "sections": [{"path": list(s.path), "text": s.text, **({"metadata": {"page": s.page}} if s.page else {})}
                     for s in sections],
    }


async def remove_parts(scope: Any, file_id: str, parts: int) -> int:
    """Take every part of a file out of its scope; the number of passages removed."""
    removed = 0
    for number in range(parts):
        removed += await scope.remove_article(part_id(file_id, number))
    return removed
