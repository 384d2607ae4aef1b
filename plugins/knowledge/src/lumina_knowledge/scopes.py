"""Scoped indexes: passages that belong to one owner (a user's brain), searched only together.

A scope is a :class:`~lumina_knowledge.index.KnowledgeIndex` on a collection of its own with a
BM25 statistics file of its own, so nothing indexed in it reaches the shared index or another
scope, and its IDF reflects its own passages only (a user's ten notes are not scored against
the term counts of a million Wikipedia passages). The documents plugin keeps one scope per user
and brain; a scope is opened on first use and its collection created then.

Everything goes in and out as plain data, as through the service itself.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lumina_core.errors import ValidationFailed
from lumina_knowledge.bm25 import TermStats
from lumina_knowledge.index import KnowledgeIndex
from lumina_knowledge.retrieval import Mode, Retriever

COLLECTION_PREFIX = "knowledge_scope_"
SCOPE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,79}$")


class ScopedIndex:
    """One scope: feed articles, search, resolve cite ids, like the shared index."""

    def __init__(self, name: str, index: KnowledgeIndex) -> None:
        self.name = name
        self.index = index
        self.retriever = Retriever(index)

    async def index_article(self, article: Mapping[str, Any], *, dense_now: bool = True) -> dict[str, Any]:
        """Add or replace an article, as :meth:`KnowledgeService.index_article` does."""
        return await self.index.index_article(article, dense_now=dense_now)

    async def remove_article(self, article_id: str) -> int:
        """Take an article's passages out of search at once; return how many went."""
        return await self.index.remove_article(article_id)

    async def search(self, query: str, k: int = 5, *, mode: Mode = "hybrid") -> list[dict[str, Any]]:
        """The ``k`` best passages, as the shared search gives them plus ``article_id``,
        ``metadata`` (what the article and its section carried) and ``evidence``: the share of
        the query's weighted terms its best sentence covers (0 to 1; only in ``hybrid``)."""
        hits = await self.retriever.search(query, k, mode=mode)
        return [{**hit.to_dict(), "article_id": hit.article_id, "metadata": hit.metadata,
                 "evidence": round(hit.signals.get("sentence", 0.0), 6)} for hit in hits]

    async def passage(self, passage_id: str) -> dict[str, Any] | None:
        """The passage a cite id names in this scope, or None (also for another scope's id)."""
        return await self.index.passage(passage_id)

    async def stats(self) -> dict[str, Any]:
        """``{"articles", "passages", "pending_dense", "embedder"}`` of this scope alone."""
        return await self.index.describe()


class Scopes:
    """Opens each scope once, on first use; closes them all when the plugin stops."""

    def __init__(self, vectors: Any, embedder: Any, folder: Path) -> None:
        self._vectors = vectors
        self._embedder = embedder
        self._folder = folder
        self._open: dict[str, ScopedIndex] = {}
        self._lock = asyncio.Lock()

    async def get(self, name: str) -> ScopedIndex:
        """The scope ``name`` (lower-case letters, digits and ``_``), created if new."""
        found = self._open.get(name)
        if found is not None:
            return found
        _check_name(name)
        async with self._lock:
            if name not in self._open:
                self._folder.mkdir(parents=True, exist_ok=True)
                stats = TermStats(self._stats_path(name))
                index = KnowledgeIndex(self._vectors, self._embedder, stats, collection=COLLECTION_PREFIX + name)
                try:
                    await index.open()
                except BaseException:
                    stats.close()
                    raise
                self._open[name] = ScopedIndex(name, index)
            return self._open[name]

    async def drop(self, name: str) -> None:
        """Delete a scope: its collection, its passages and its statistics."""
        scope = await self.get(name)
        async with self._lock:
            self._open.pop(name, None)
            await scope.index.close()
            scope.index.stats.close()
            await self._vectors.drop_collection(scope.index.collection)
            self._stats_path(name).unlink(missing_ok=True)

    async def close(self) -> None:
        async with self._lock:
            scopes, self._open = list(self._open.values()), {}
        for scope in scopes:
            await scope.index.close()
            scope.index.stats.close()

    def _stats_path(self, name: str) -> Path:
        return self._folder / f"{name}.sqlite"


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not SCOPE_NAME.match(name):
        raise ValidationFailed(
            f"scope name {name!r} is not valid: use 1-80 lower-case letters, digits and '_', "
            "starting with a letter or digit (e.g. 'docs_3f2a_work')", field="scope")
