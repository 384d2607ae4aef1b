"""Re-scoring fused candidates by their best sentence (RECOMP/EXIT-style sentence evidence).

A passage that holds the answer usually has one sentence that carries most of the question's
rare terms close together. Each candidate gets the IDF-weighted share of the question's terms
that its best sentence covers (the sentence read with its article's title, since "it" in a
sentence usually means the title's subject), added to its fused score, plus a small boost when
the question names the article's title.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lumina_knowledge.text import sentences, term_index, terms

if TYPE_CHECKING:
    from lumina_knowledge.retrieval import SearchHit

RESCORED = 20
SENTENCE_WEIGHT = 0.03
TITLE_WEIGHT = 0.01


async def rescore(query: str, fused: Sequence[SearchHit], index: Any) -> list[SearchHit]:
    weights = index.stats.query_vector(query)
    total = sum(index.stats.query_weights(query).values()) or 1.0
    query_terms = set(weights)
    head = [_rescored(hit, weights, total, query_terms) for hit in fused[:RESCORED]]
    head.sort(key=lambda hit: -hit.score)
    return head + list(fused[RESCORED:])


def _rescored(hit: SearchHit, weights: dict[int, float], total: float, query_terms: set[int]) -> SearchHit:
    title_terms = {term_index(t) for t in terms(hit.title)}
    best = max((_coverage(s, title_terms, weights) for s in sentences(hit.text)), default=0.0) / total
    title = 1.0 if title_terms and title_terms <= query_terms else 0.0
    score = hit.score + SENTENCE_WEIGHT * best + TITLE_WEIGHT * title
    return replace(hit, score=score, signals={**hit.signals, "sentence": best, "title": title})


def _coverage(sentence: str, title_terms: set[int], weights: dict[int, float]) -> float:
    """The question's weight a sentence covers, read with its article's title (its subject)."""
    present = {term_index(t) for t in terms(sentence)} | title_terms
    return sum(w for index, w in weights.items() if index in present)
