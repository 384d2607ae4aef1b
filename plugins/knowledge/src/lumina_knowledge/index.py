"""The knowledge index: the shared store any plugin feeds, through the `knowledge` service.

Articles come in as plain data (``{"id", "title", "url", "revision", "source", "sections"}``, and
optionally ``"metadata"``: a mapping every passage's payload carries, e.g. the sources a reflection cites;
a section's own ``"metadata"``, e.g. a file's page number, goes on top for its passages),
are cut into passages, and each passage is stored once in the vector store with a dense vector
(the core embedder, over title + section + text) and a sparse BM25 vector. An article whose
content has not changed is left alone; a changed one has its passages replaced. Dense vectors may
follow a moment after the BM25 ones (``dense_now=False``, the crawler's choice), so a fresh
article is searchable by its words at once. Retrieval lives in :mod:`lumina_knowledge.retrieval`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from lumina_core.errors import ValidationFailed
from lumina_core.services.vectors import CollectionSpec, Point, SparseVector, VectorSpec
from lumina_knowledge.backfill import DenseBackfill, indexed_text
from lumina_knowledge.bm25 import TermStats, passage_vector
from lumina_knowledge.chunking import CUT_VERSION, Passage, passages

COLLECTION = "knowledge_passages"
DENSE, SPARSE = "dense", "bm25"
log = logging.getLogger("lumina.knowledge.index")


class KnowledgeIndex:
    """Writes articles into the vector store and keeps the BM25 statistics in step."""

    def __init__(self, vectors: Any, embedder: Any, stats: TermStats, *, collection: str = COLLECTION) -> None:
        self.vectors = vectors
        self.embedder = embedder
        self.stats = stats
        self.collection = collection
        self.backfill = DenseBackfill(vectors, embedder, collection, DENSE)
        self._renewal: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Create the collection if needed and start completing pending dense vectors; if another
        embedder made the vectors held (``LUMINA_EMBEDDER_MODEL`` changed), embed them all again."""
        spec = CollectionSpec(
            name=self.collection,
            vectors={DENSE: VectorSpec(self.embedder.dimensions, "cosine")},
            sparse_vectors=(SPARSE,),
            indexes={"article_id": "keyword", "title": "keyword"},
        )
        await self.vectors.create_collection(spec)
        made_by = self.stats.dense_model
        if made_by is None:
            self.stats.made_dense_with(self.embedder.model)
        elif made_by != self.embedder.model:
            self._renewal = asyncio.get_running_loop().create_task(self._renew(made_by), name="knowledge-renew-dense")
        self.backfill.start()

    async def renewed(self) -> None:
        """Return once the vectors are all the current embedder's (for tests and benchmarks)."""
        if self._renewal is not None:
            await asyncio.shield(self._renewal)

    async def close(self) -> None:
        if self._renewal is not None:
            self._renewal.cancel()
            await asyncio.gather(self._renewal, return_exceptions=True)
        await self.backfill.stop()

    async def _renew(self, made_by: str) -> None:
        """Until it ends, dense search compares the new model's question with old vectors; a
        crash leaves the old model recorded, so the next start renews them again."""
        log.warning("the dense vectors of '%s' were made by %s, not %s: embedding them again",
                    self.collection, made_by, self.embedder.model)
        renewed = await self.backfill.renew()
        self.stats.made_dense_with(self.embedder.model)
        log.info("'%s': %d dense vectors renewed with %s", self.collection, renewed, self.embedder.model)

    async def index_article(self, article: Mapping[str, Any], *, dense_now: bool = True) -> dict[str, Any]:
        """Add or replace an article; ``{"status": "added"|"replaced"|"unchanged", "passages": n}``.

        ``dense_now=False`` returns as soon as the article is searchable by its words: the dense
        vectors of its passages follow in the background (:mod:`lumina_knowledge.backfill`).
        Passages a replaced article keeps word for word keep their dense vectors.
        """
        _check_article(article)
        fingerprint = _fingerprint(article)
        known = self.stats.article(article["id"])
        if known is not None and known["fingerprint"] == fingerprint:
            return {"status": "unchanged", "passages": len(known["passage_ids"])}
        cut = passages(article)
        sparse = [passage_vector(p.indexed_text) for p in cut]
        dense = await self._kept_dense(cut) if known else {}
        if dense_now:
            dense.update(await self._embed([p for p in cut if p.id not in dense]))
        extra = {"revision": article.get("revision"), "source": article.get("source", "")}
        points = [
            Point(p.id, {SPARSE: _sparse(s), **({DENSE: dense[p.id]} if p.id in dense else {})}, p.payload(extra))
            for p, s in zip(cut, sparse)
        ]
        stale = set(known["passage_ids"]) - {p.id for p in cut} if known else set()
        await self.vectors.upsert(self.collection, points)
        if stale:
            await self.vectors.delete(self.collection, sorted(stale))
        self.stats.add(article["id"], article["title"], fingerprint,
                       [(p.id, s.keys()) for p, s in zip(cut, sparse)], time.time())
        if len(dense) < len(cut):
            self.backfill.wake()
        return {"status": "replaced" if known else "added", "passages": len(cut)}

    async def remove_article(self, article_id: str) -> int:
        """Take an article and its passages out of the index; return how many passages went."""
        passage_ids = self.stats.remove(article_id)
        if passage_ids:
            await self.vectors.delete(self.collection, passage_ids)
        return len(passage_ids)

    async def passage(self, passage_id: str) -> dict[str, Any] | None:
        """A stored passage by its cite id, or None."""
        try:
            records = await self.vectors.get(self.collection, [passage_id])
        except ValidationFailed:
            return None
        return {"id": str(records[0].id), **records[0].payload} if records else None

    async def passages_of(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        records = await self.vectors.get(self.collection, list(ids))
        return [{"id": str(r.id), **r.payload} for r in records]

    async def describe(self) -> dict[str, Any]:
        """Counts for the stats panel; ``pending_dense``: passages searchable by words only, so far."""
        return {"articles": self.stats.articles(), "passages": self.stats.documents,
                "pending_dense": await self.backfill.pending(), "embedder": self.embedder.model,
                "dense_model": self.stats.dense_model}

    async def _embed(self, cut: Sequence[Passage]) -> dict[str, list[float]]:
        vectors = await self.embedder.embed([p.indexed_text for p in cut]) if cut else []
        return {p.id: v for p, v in zip(cut, vectors, strict=True)}

    async def _kept_dense(self, cut: Sequence[Passage]) -> dict[str, list[float]]:
        """Dense vectors already stored for passages whose indexed text is unchanged."""
        stored = await self.vectors.get(self.collection, [p.id for p in cut], with_vectors=True)
        texts = {p.id: p.indexed_text for p in cut}
        return {
            str(r.id): list(r.vectors[DENSE]) for r in stored
            if DENSE in r.vectors and indexed_text(r.payload) == texts[str(r.id)]
        }


def _sparse(vector: Mapping[int, float]) -> SparseVector:
    indices = sorted(vector)
    return SparseVector(tuple(indices), tuple(float(vector[i]) for i in indices))


def _fingerprint(article: Mapping[str, Any]) -> str:
    """Changes when the passages would: their cut, text, section paths or metadata."""
    parts = [CUT_VERSION, article["title"], article.get("url", ""), article.get("sections", [])]
    if article.get("metadata"):
        parts.append(article["metadata"])
    content = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def _check_article(article: Mapping[str, Any]) -> None:
    for key in ("id", "title"):
        if not isinstance(article.get(key), str) or not article[key]:
            raise ValidationFailed(f"an article needs a non-empty string '{key}'", field=key)
    sections = article.get("sections")
    if not isinstance(sections, list) or not all(isinstance(s, Mapping) and isinstance(s.get("text"), str) for s in sections):
        raise ValidationFailed("an article needs 'sections': a list of {'path': [...], 'text': str}", field="sections")
    _check_metadata(article.get("metadata", {}), "metadata")
    for number, section in enumerate(sections):
        _check_metadata(section.get("metadata", {}), f"sections[{number}].metadata")


def _check_metadata(metadata: Any, where: str) -> None:
    """Metadata is stored in every passage's payload as given: a flat mapping of JSON values."""
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise ValidationFailed(f"'{where}' must be an object with string keys", field=where)
    try:
        json.dumps(dict(metadata))
    except (TypeError, ValueError):
        raise ValidationFailed(f"'{where}' must hold JSON values only", field=where) from None
