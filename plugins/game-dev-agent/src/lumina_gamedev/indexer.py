"""A project's files into the knowledge index, one article per file, only what changed.

Each project has a knowledge scope of its own (``gamedev_<project id>``: its own collection and
BM25 statistics, so a search never leaves the project and a term's weight is its weight in this
code). Each file becomes the article ``gamedev:<project>:<path>`` (source ``gamedev``), one
section per chunk labelled with the chunk's symbol and line range. A file is searchable by its
words as soon as it is indexed; its dense vectors follow in the background (``pending_dense``). Beside the code, a section carries the words of its compound
identifiers (:mod:`lumina_gamedev.terms`), so plain questions meet camel-cased code. A file whose
bytes have not changed since the last pass is skipped; a deleted file's article is removed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lumina_core.errors import Conflict
from lumina_gamedev.engines import ENGINES, about
from lumina_gamedev.outline import Chunk, FileOutline
from lumina_gamedev.splitter import outline_file
from lumina_gamedev.store import Project, ProjectStore
from lumina_gamedev.terms import identifier_words

log = logging.getLogger("lumina.plugin.game-dev-agent")
SOURCE = "gamedev"
#: A NUL byte among a file's first bytes marks it binary (a binary-serialised Unity asset).
BINARY_SNIFF_BYTES = 8192


@dataclass
class IndexReport:
    indexed: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"indexed": len(self.indexed), "unchanged": self.unchanged, "removed": len(self.removed),
                "failed": self.failed, "duration_ms": round(self.seconds * 1000, 1)}


def article_id(project: Project, path: str) -> str:
    return f"{SOURCE}:{project.id}:{path}"


def scope_name(project: Project) -> str:
    return f"{SOURCE}_{project.id}"


async def project_scope(knowledge: Any, project: Project) -> Any:
    """The project's own scope of the ``knowledge`` service, opened (or created) on first use."""
    return await knowledge.scope(scope_name(project))


class Indexer:
    """Feeds the ``knowledge`` service (looked up on each use: that plugin may reload)."""

    def __init__(self, store: ProjectStore, knowledge: Callable[[], Any]) -> None:
        self.store = store
        self.knowledge = knowledge
        self._locks: dict[str, asyncio.Lock] = {}

    async def index(self, project: Project, paths: Iterable[Path] | None = None) -> IndexReport:
        """Bring the index in step with the project's files: all of them, or only ``paths``
        (those the watcher saw change; a path that no longer exists is removed). One pass at a
        time per project: a save during a full pass waits for it, then finds little to do."""
        async with self._locks.setdefault(project.id, asyncio.Lock()):
            return await self._index(project, paths)

    async def _index(self, project: Project, paths: Iterable[Path] | None) -> IndexReport:
        if not project.root.is_dir():  # not "every file was deleted": keep the index as it was
            raise Conflict(f"the project's folder '{project.root}' is gone: restore it, or DELETE the project",
                           field="path")
        started = time.perf_counter()
        engine = ENGINES[project.engine]
        known = self.store.digests(project.id)
        report = IndexReport()
        if paths is None:
            present = {p.relative_to(project.root).as_posix(): p for p in engine.files(project.root)}
            gone = set(known) - set(present)
        else:
            wanted = {p.relative_to(project.root).as_posix(): p for p in paths if engine.wants(project.root, p)}
            present = {rel: p for rel, p in wanted.items() if p.is_file()}
            gone = {rel for rel in wanted if rel not in present and rel in known}
        scope = await project_scope(self.knowledge(), project)
        for relative, path in present.items():
            await self._index_file(scope, project, relative, path, known.get(relative), report)
        for relative in sorted(gone):
            await scope.remove_article(article_id(project, relative))
            self.store.remove_file(project.id, relative)
            report.removed.append(relative)
        report.seconds = time.perf_counter() - started
        return report

    async def _index_file(self, scope: Any, project: Project, relative: str, path: Path, known: str | None,
                          report: IndexReport) -> None:
        try:
            content = path.read_bytes()
        except OSError as exc:
            report.failed[relative] = f"could not read it: {exc.strerror}"
            return
        if b"\0" in content[:BINARY_SNIFF_BYTES]:
            report.failed[relative] = "binary, not read (Unity: set Asset Serialization to Force Text)"
            return
        digest = hashlib.sha256(content).hexdigest()
        if digest == known:
            report.unchanged += 1
            return
        try:
            outline = await asyncio.to_thread(outline_file, relative, content.decode("utf-8", errors="replace"))
        except Exception as exc:  # a grammar's bug on one odd file must not stop the project
            log.warning("could not read %s of project %s: %s", relative, project.id, exc)
            report.failed[relative] = f"could not be parsed: {exc}"
            return
        await _store_article(scope, project, relative, path, outline)
        self.store.replace_file(project.id, relative, digest, outline)
        report.indexed.append(relative)

    async def pending_dense(self, project: Project) -> int:
        """Passages of the project still waiting for their dense vectors (searchable by words)."""
        return int((await (await project_scope(self.knowledge(), project)).stats())["pending_dense"])

    async def forget(self, project: Project) -> None:
        """Drop the project's scope, and every passage in it, from the knowledge index."""
        await self.knowledge().drop_scope(scope_name(project))


async def _store_article(scope: Any, project: Project, relative: str, path: Path, outline: FileOutline) -> None:
    if not outline.chunks:
        await scope.remove_article(article_id(project, relative))
        return
    await scope.index_article({
        "id": article_id(project, relative),
        "title": relative,
        "url": path.as_uri(),
        "source": SOURCE,
        "metadata": {"project": project.id, "engine": project.engine},
        "sections": [{"path": [c.symbol, f"lines {c.start_line}-{c.end_line}"], "text": indexed_text(c)}
                     for c in outline.chunks],
    }, dense_now=False)


def indexed_text(chunk: Chunk) -> str:
    """The chunk's code, then what its file holds (for well-known engine files) and the words of
    its compound identifiers."""
    words = identifier_words(f"{chunk.symbol}\n{chunk.text}")
    notes = [about(chunk.file), " ".join(words)]
    return chunk.text + "".join(f"\n({note})" for note in notes if note)
