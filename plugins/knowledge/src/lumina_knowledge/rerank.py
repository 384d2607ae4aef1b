"""Hybrid scoring: one score per candidate from both searches, its article and its best sentence.

Scores, not ranks, are combined (a convex combination keeps how far apart the candidates are,
which reciprocal-rank fusion throws away; measured in ``docs/knowledge.md``). Each candidate
gets, weighted:

* lexical: its BM25 score over the query's best BM25 score;
* semantic: its dense cosine to the question;
* article: the best dense cosine among its article's candidates. A question worded away from
  the text still describes its subject ("the physicist behind relativity"), so the article that
  is closest in meaning lends all its passages a prior, and the passage is chosen within it;
* sentence: the IDF-weighted share of the question's terms that its best sentence covers (read
  with the article's title, since "it" in a sentence usually means the title's subject);
* field: an infobox line whose field the question names ("Capital: Montgomery").

A passage that only one search found takes, for the other, the lowest score that search
returned when its list was cut at the limit (it ranked below all of them), else 0 (the search
returned every passage it matches).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from lumina_knowledge.text import sentences, term_index, terms

if TYPE_CHECKING:
    from lumina_knowledge.bm25 import TermStats
    from lumina_knowledge.retrieval import SearchHit

LEXICAL_WEIGHT = 1.0
DENSE_WEIGHT = 2.0
ARTICLE_WEIGHT = 2.0
SENTENCE_WEIGHT = 0.5
FIELD_WEIGHT = 0.15
#: Sentence evidence is read for this many of the best candidates by the other signals (reading
#: sentences is the costly part; beyond the first 10 it never changed a top 3 on the dev set).
EVIDENCE_HEAD = 10
#: An infobox line as the crawler writes it: "Field name: value".
_FIELD = re.compile(r"(?:^|\s)([A-Z][a-z]+(?: [a-z]+)?): ")


def rescore(
    query: str, candidates: Sequence[SearchHit], stats: TermStats, floors: Mapping[str, float]
) -> list[SearchHit]:
    """``candidates`` (each with its ``bm25`` and/or ``dense`` signal) best first; ``floors``: the
    score each search gives a passage it did not return."""
    ranked = sorted(_by_searches(candidates, floors), key=lambda hit: -hit.score)
    weights = stats.query_vector(query)
    total = sum(stats.query_weights(query).values()) or 1.0
    head = [_with_evidence(hit, weights, total) for hit in ranked[:EVIDENCE_HEAD]]
    return sorted(head, key=lambda hit: -hit.score) + ranked[EVIDENCE_HEAD:]


def _by_searches(candidates: Sequence[SearchHit], floors: Mapping[str, float]) -> list[SearchHit]:
    """The first stage: what both searches and the article stage say, cheap for every candidate."""
    best_bm25 = max((hit.signals.get("bm25", 0.0) for hit in candidates), default=0.0) or 1.0
    articles = article_closeness(candidates, floors["dense"])
    scored = []
    for hit in candidates:
        signals = {"lexical": hit.signals.get("bm25", floors["bm25"]) / best_bm25,
                   "semantic": hit.signals.get("dense", floors["dense"]),
                   "article": articles[hit.article_id]}
        score = (LEXICAL_WEIGHT * signals["lexical"] + DENSE_WEIGHT * signals["semantic"]
                 + ARTICLE_WEIGHT * signals["article"])
        scored.append(replace(hit, score=score, signals={**hit.signals, **signals}))
    return scored


def _with_evidence(hit: SearchHit, weights: dict[int, float], total: float) -> SearchHit:
    """The second stage: what the passage's own sentences and infobox lines say."""
    sentence = best_sentence_coverage(hit, weights) / total
    field = field_asked(hit.text, set(weights))
    score = hit.score + SENTENCE_WEIGHT * sentence + FIELD_WEIGHT * field
    return replace(hit, score=score, signals={**hit.signals, "sentence": sentence, "field": field})


def article_closeness(candidates: Sequence[SearchHit], lowest_dense: float) -> dict[str, float]:
    """Per article, the best dense cosine among its candidates: how close the article is in meaning."""
    closeness: dict[str, float] = {}
    for hit in candidates:
        dense = hit.signals.get("dense", lowest_dense)
        closeness[hit.article_id] = max(dense, closeness.get(hit.article_id, dense))
    return closeness


def best_sentence_coverage(hit: SearchHit, weights: dict[int, float]) -> float:
    """The question's weight that the passage's best sentence covers, read with the title."""
    title_terms = {term_index(t) for t in terms(hit.title)}
    return max((_coverage(s, title_terms, weights) for s in sentences(hit.text)), default=0.0)


def field_asked(text: str, query_terms: set[int]) -> float:
    """1.0 when the passage has an infobox field whose every term the question names."""
    for match in _FIELD.finditer(text):
        field = {term_index(t) for t in terms(match.group(1))}
        if field and field <= query_terms:
            return 1.0
    return 0.0


def _coverage(sentence: str, title_terms: set[int], weights: dict[int, float]) -> float:
    present = {term_index(t) for t in terms(sentence)} | title_terms
    return sum(w for index, w in weights.items() if index in present)
