"""The ``knowledge`` service other plugins reach with ``ctx.service("knowledge")``.

One object, plain data in and out (plugins share no types): feed articles, search, resolve cite
ids, record gaps. The crawler feeds it; user documents and other sources can feed it the same way.
Passages that belong to one owner (a user's brain) go into a scope of their own: ``await
service.scope("docs_<user>_<brain>")`` offers the same calls on a collection and BM25 statistics
that nothing else shares (see :mod:`lumina_knowledge.scopes`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from lumina_knowledge.gaps import GapStore
from lumina_knowledge.index import KnowledgeIndex
from lumina_knowledge.retrieval import Mode, Retriever, SearchHit
from lumina_knowledge.scopes import ScopedIndex, Scopes

Publish = Callable[[str, Mapping[str, Any]], Awaitable[None]]


class KnowledgeService:
    def __init__(self, index: KnowledgeIndex, gaps: GapStore, publish: Publish, scopes: Scopes) -> None:
        self.index = index
        self.retriever = Retriever(index)
        self.gaps = gaps
        self.scopes = scopes
        self._publish = publish

    async def index_article(self, article: Mapping[str, Any], *, dense_now: bool = True) -> dict[str, Any]:
        """Add or replace an article ``{"id", "title", "url", "revision", "source", "sections"}``.

        ``dense_now=False``: return once it is searchable by its words; its dense vectors follow
        in the background (``stats()["pending_dense"]`` counts the passages still waiting).
        """
        return await self.index.index_article(article, dense_now=dense_now)

    async def remove_article(self, article_id: str) -> int:
        return await self.index.remove_article(article_id)

    async def search(self, query: str, k: int = 5, *, mode: Mode = "hybrid") -> list[dict[str, Any]]:
        """The ``k`` best passages for ``query`` as dicts with id, title, section, score, text, url."""
        return [hit.to_dict() for hit in await self.search_hits(query, k, mode=mode)]

    async def search_hits(self, query: str, k: int = 5, *, mode: Mode = "hybrid") -> list[SearchHit]:
        return await self.retriever.search(query, k, mode=mode)

    async def passage(self, passage_id: str) -> dict[str, Any] | None:
        """The passage a cite id names, or None."""
        return await self.index.passage(passage_id)

    # --- scopes: an owner's own passages, apart from the shared index (see scopes.py) ------------

    async def scope(self, name: str) -> ScopedIndex:
        """The scope ``name`` (``[a-z0-9_]``, up to 80), opened or created: ``index_article``,
        ``remove_article``, ``search`` (hits add ``article_id``, ``metadata``, ``evidence``),
        ``passage`` and ``stats``, on its own collection and statistics."""
        return await self.scopes.get(name)

    async def drop_scope(self, name: str) -> None:
        """Delete a scope and everything indexed in it."""
        await self.scopes.drop(name)

    async def record_gap(self, question: str, *, user_id: str, confidence: float, reason: str) -> dict[str, Any]:
        """Remember a question the knowledge base could not answer, and tell the bus."""
        gap = self.gaps.record(question, user_id=user_id, confidence=confidence, reason=reason)
        await self._publish("knowledge.gap", {**gap, "user_id": user_id})
        return gap

    async def stats(self) -> dict[str, Any]:
        return await self.index.describe()
