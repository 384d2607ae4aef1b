"""Hybrid retrieval: BM25 and dense candidates, scored together (see :mod:`lumina_knowledge.rerank`).

Each mode is kept callable on its own (``bm25``, ``dense``, ``rrf``: reciprocal-rank fusion of
both, ``hybrid``) so the benchmark measures them side by side on the same index; ``hybrid`` is
what the product uses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lumina_core.errors import ValidationFailed
from lumina_core.services.vectors import Hit, SparseVector
from lumina_knowledge.index import DENSE, SPARSE, KnowledgeIndex
from lumina_knowledge.rerank import rescore

Mode = Literal["bm25", "dense", "rrf", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "rrf", "hybrid")
CANDIDATES = 30
RRF_K = 60
MAX_K = 50
#: With a hypothetical answer (HyDE, Gao et al., ACL 2023; wiki_qa's ``hyde`` setting), the dense
#: query is the question's vector plus this share of the answer's: 0.25–0.5 gave the same figures
#: on reworded dev, 0.75 and the answer alone were worse (docs/knowledge.md).
HYPOTHESIS_WEIGHT = 0.35


@dataclass(frozen=True)
class SearchHit:
    id: str
    title: str
    section: tuple[str, ...]
    score: float
    text: str
    url: str = ""
    article_id: str = ""
    signals: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "section": " > ".join(self.section),
                "score": round(self.score, 6), "text": self.text, "url": self.url}


class Retriever:
    def __init__(self, index: KnowledgeIndex) -> None:
        self.index = index

    async def search(self, query: str, k: int = 5, *, mode: Mode = "hybrid", hypothesis: str = "") -> list[SearchHit]:
        """The ``k`` best passages; ``hypothesis``, a guessed answer, steers the dense search beside
        the question (a question worded away from the text often shares more with its answer)."""
        if not query.strip():
            raise ValidationFailed("the query is empty: ask something", field="query")
        if not 1 <= k <= MAX_K:
            raise ValidationFailed(f"k must be between 1 and {MAX_K}", field="k")
        if mode == "bm25":
            return [_hit(h, h.score) for h in (await self._bm25(query, k))]
        if mode == "dense":
            return [_hit(h, h.score) for h in (await self._dense(query, k, hypothesis))]
        rankings = {"bm25": await self._bm25(query, CANDIDATES),
                    "dense": await self._dense(query, CANDIDATES, hypothesis)}
        if mode == "rrf":
            return fuse(rankings)[:k]
        floors = {name: lowest_score(ranking, CANDIDATES) for name, ranking in rankings.items()}
        return rescore(query, candidates(rankings), self.index.stats, floors)[:k]

    async def _bm25(self, query: str, limit: int) -> list[Hit]:
        weights = self.index.stats.query_vector(query)
        if not weights:
            return []
        indices = sorted(weights)
        vector = SparseVector(tuple(indices), tuple(weights[i] for i in indices))
        return await self.index.vectors.search(self.index.collection, vector, using=SPARSE, limit=limit)

    async def _dense(self, query: str, limit: int, hypothesis: str = "") -> list[Hit]:
        vector = await self._query_vector(query, hypothesis)
        return await self.index.vectors.search(self.index.collection, vector, using=DENSE, limit=limit)

    async def _query_vector(self, query: str, hypothesis: str) -> list[float]:
        if not hypothesis.strip():
            (vector,) = await self.index.embedder.embed([query])
            return vector
        question, answer = await self.index.embedder.embed([query, hypothesis])
        return unit([q + HYPOTHESIS_WEIGHT * a for q, a in zip(question, answer, strict=True)])


def fuse(rankings: Mapping[str, Sequence[Hit]], k: int = RRF_K) -> list[SearchHit]:
    """Reciprocal-rank fusion: each list gives 1/(k + rank); each hit keeps its score per list
    as a signal (``bm25``, ``dense``)."""
    scores: dict[str, float] = {}
    for ranking in rankings.values():
        for rank, hit in enumerate(ranking, start=1):
            scores[str(hit.id)] = scores.get(str(hit.id), 0.0) + 1.0 / (k + rank)
    fused = [replace(hit, score=scores[hit.id]) for hit in candidates(rankings)]
    return sorted(fused, key=lambda hit: -hit.score)


def candidates(rankings: Mapping[str, Sequence[Hit]]) -> list[SearchHit]:
    """Every passage any ranking found, once, with its score in each ranking that has it as a signal."""
    hits: dict[str, Hit] = {}
    signals: dict[str, dict[str, float]] = {}
    for name, ranking in rankings.items():
        for hit in ranking:
            key = str(hit.id)
            hits.setdefault(key, hit)
            signals.setdefault(key, {})[name] = hit.score
    return [_hit(hit, 0.0, signals[key]) for key, hit in hits.items()]


def lowest_score(ranking: Sequence[Hit], limit: int) -> float:
    """What a passage missing from ``ranking`` scores there: the last score when the list was cut at
    ``limit`` (the passage ranked lower), else 0 (the search returned all it matches)."""
    return ranking[-1].score if len(ranking) >= limit else 0.0


def unit(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _hit(hit: Hit, score: float, signals: dict[str, float] | None = None) -> SearchHit:
    payload = hit.payload
    return SearchHit(
        id=str(hit.id),
        title=payload.get("title", ""),
        section=tuple(payload.get("section", ())),
        score=score,
        text=payload.get("text", ""),
        url=payload.get("url", ""),
        article_id=payload.get("article_id", ""),
        signals=dict(signals or {}),
        metadata=dict(payload.get("metadata") or {}),
    )
