"""The ``knowledge`` service other plugins reach with ``ctx.service("knowledge")``.

One object, plain data in and out (plugins share no types): feed articles, search, resolve cite
ids, record gaps. The crawler feeds it; user documents and other sources can feed it the same way.
Passages that belong to one owner (a user's brain) go into a scope of their own: ``await
service.scope("docs_<user>_<brain>")`` offers the same calls on a collection and BM25 statistics
that nothing else shares (see :mod:`lumina_knowledge.scopes`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from lumina_knowledge.answer import WikiQA
from lumina_knowledge.gaps import GapState, GapStore
from lumina_knowledge.index import KnowledgeIndex
from lumina_knowledge.retrieval import Mode, Retriever, SearchHit
from lumina_knowledge.scopes import ScopedIndex, Scopes

Publish = Callable[[str, Mapping[str, Any]], Awaitable[None]]


class KnowledgeService:
    def __init__(self, index: KnowledgeIndex, gaps: GapStore, publish: Publish, scopes: Scopes, llm: Any,
                 *, hyde: bool = False) -> None:
        self.index = index
        self.retriever = Retriever(index)
        self.gaps = gaps
        self.scopes = scopes
        self._publish = publish
        self.qa = WikiQA(self, llm, hyde=hyde)

    async def index_article(self, article: Mapping[str, Any], *, dense_now: bool = True) -> dict[str, Any]:
        """Add or replace an article ``{"id", "title", "url", "revision", "source", "sections"}``.

        ``dense_now=False``: return once it is searchable by its words; its dense vectors follow
        in the background (``stats()["pending_dense"]`` counts the passages still waiting).
        """
        return await self.index.index_article(article, dense_now=dense_now)

    async def remove_article(self, article_id: str) -> int:
        return await self.index.remove_article(article_id)

    async def search(self, query: str, k: int = 5, *, mode: Mode = "hybrid", hypothesis: str = "") -> list[dict[str, Any]]:
        """The ``k`` best passages for ``query`` as dicts with id, title, section, score, text, url;
        ``hypothesis``: a guessed answer searched by meaning beside it (HyDE)."""
        return [hit.to_dict() for hit in await self.search_hits(query, k, mode=mode, hypothesis=hypothesis)]

    async def search_hits(self, query: str, k: int = 5, *, mode: Mode = "hybrid",
                          hypothesis: str = "") -> list[SearchHit]:
        return await self.retriever.search(query, k, mode=mode, hypothesis=hypothesis)

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

    # --- gaps: what is not known yet (see gaps.py); the planner turns them into crawls ---------

    async def answered(self, question: str, answer: Mapping[str, Any], *, user_id: str) -> None:
        """Tell the bus wiki_qa answered a question (``knowledge.answered``: the trainer keeps such
        answers as silver samples), with what it cited."""
        await self._publish("knowledge.answered", {"user_id": user_id, "question": question, **answer})

    async def record_gap(self, topic: str, *, user_id: str, reason: str, source: str = "question",
                         confidence: float | None = None, evidence: Sequence[str] = (),
                         score: float | None = None) -> dict[str, Any]:
        """Remember a topic not known (one gap per topic and user, counting hits), tell the bus.

        ``user_id`` "" is the system's own gap (a stale article, a weak graph region, a reflection).
        """
        gap = self.gaps.record(topic, user_id=user_id, reason=reason, source=source, confidence=confidence,
                               evidence=evidence, score=score)
        await self._publish("knowledge.gap_recorded", gap)
        return gap

    async def assess(self, question: str) -> dict[str, Any]:
        """Whether wiki_qa would answer ``question`` now (``known``, ``reason``, ``cite_ids``),
        without answering it or noting a gap: how a planner checks that a crawl filled one."""
        return await self.qa.assess(question)

    def gap(self, gap_id: str) -> dict[str, Any] | None:
        return self.gaps.get(gap_id)

    def find_gap(self, topic: str, *, user_id: str) -> dict[str, Any] | None:
        """The gap on ``topic`` of ``user_id`` ("" for the system's), or None."""
        return self.gaps.find(topic, user_id=user_id)

    def gap_counts(self) -> dict[str, int]:
        """How many gaps are in each state."""
        return self.gaps.counts_by_state()

    def list_gaps(self, *, state: str | None = None, user_id: str | None = None, due: bool = False,
                  since: float | None = None, offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        """Gaps ranked best first; ``due``: only those whose retry time has come."""
        return self.gaps.ranked(state=state, user_id=user_id, due_before=time.time() if due else None,
                                since=since, offset=offset, limit=limit)

    async def move_gap(self, gap_id: str, state: GapState, reason: str, *, expect: Sequence[GapState] | None = None,
                       retry_at: float | None = None, filled_by: Sequence[str] | None = None,
                       attempted: bool = False) -> dict[str, Any] | None:
        """Change a gap's state with its reason; with ``expect`` it is a claim that only one
        caller wins (None: the gap is gone or another worker moved it first)."""
        gap = self.gaps.move(gap_id, state, reason, expect=expect, retry_at=retry_at, filled_by=filled_by,
                             attempted=attempted)
        if gap is not None:
            await self._publish("knowledge.gap_changed", gap)
        return gap

    async def stats(self) -> dict[str, Any]:
        return await self.index.describe()
