"""Server backend: a Qdrant server or cluster through ``qdrant-client`` (``QDRANT_URL``).

The collection spec is kept in the collection's own metadata, so a spec reads back exactly as
declared from any client. qdrant-client's local mode (``path=``) takes the same calls, which is
how the tests run this backend; it is far too slow to be a store itself (see docs/memory.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qdrant_client import AsyncQdrantClient, models

from lumina_core.services.vectors.model import (
    CollectionSpec,
    Condition,
    Filter,
    HasId,
    HasVector,
    Hit,
    Match,
    MatchAny,
    Point,
    PointId,
    Range,
    Record,
    SparseVector,
    VectorValue,
    id_out,
)
from lumina_core.services.vectors.store import VectorStore

SPEC_KEY = "lumina_spec"
_DISTANCES = {"cosine": models.Distance.COSINE, "dot": models.Distance.DOT, "euclid": models.Distance.EUCLID}
_INDEXES: dict[str, Any] = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "tenant": models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
    "integer": models.PayloadSchemaType.INTEGER,
    "float": models.PayloadSchemaType.FLOAT,
    "bool": models.PayloadSchemaType.BOOL,
    "text": models.PayloadSchemaType.TEXT,
    "datetime": models.PayloadSchemaType.DATETIME,
}


class QdrantServerStore(VectorStore):
    """Vectors on a Qdrant server; ``path`` selects qdrant-client's in-process local mode."""

    backend = "qdrant"

    def __init__(self, *, url: str | None = None, api_key: str | None = None, path: str | None = None) -> None:
        super().__init__()
        self._where = url or f"local:{path}"
        self._client = AsyncQdrantClient(url=url, api_key=api_key, path=path)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "url": self._where}

    async def close(self) -> None:
        await self._client.close()

    # --- collections -----------------------------------------------------------------------

    async def _read_spec(self, name: str) -> CollectionSpec | None:
        if not await self._client.collection_exists(name):
            return None
        info = await self._client.get_collection(name)
        stored = (info.config.metadata or {}).get(SPEC_KEY)
        return CollectionSpec.from_dict(stored) if stored else _spec_from_info(name, info)

    async def _names(self) -> list[str]:
        return [c.name for c in (await self._client.get_collections()).collections]

    async def _create(self, spec: CollectionSpec) -> None:
        await self._client.create_collection(
            spec.name,
            vectors_config={n: models.VectorParams(size=v.size, distance=_DISTANCES[v.distance]) for n, v in spec.vectors.items()},
            sparse_vectors_config={n: models.SparseVectorParams() for n in spec.sparse_vectors} or None,
            metadata={SPEC_KEY: spec.to_dict()},
        )
        await self._add_index_fields(spec.name, spec.indexes)

    async def _add_indexes(self, name: str, indexes: Mapping[str, str]) -> None:
        await self._add_index_fields(name, indexes)
        spec = await self._read_spec(name)
        assert spec is not None
        merged = CollectionSpec(name, spec.vectors, spec.sparse_vectors, {**spec.indexes, **indexes})
        await self._client.update_collection(name, metadata={SPEC_KEY: merged.to_dict()})

    async def _add_index_fields(self, name: str, indexes: Mapping[str, str]) -> None:
        for field_name, kind in indexes.items():
            await self._client.create_payload_index(name, field_name, field_schema=_INDEXES[kind])

    async def _drop(self, name: str) -> None:
        await self._client.delete_collection(name)

    # --- points ----------------------------------------------------------------------------

    async def _upsert(self, spec: CollectionSpec, points: list[Point]) -> None:
        structs = [
            models.PointStruct(id=p.id, vector={n: _vector_in(v) for n, v in p.vectors.items()}, payload=dict(p.payload))
            for p in points
        ]
        await self._client.upsert(spec.name, points=structs, wait=True)

    async def _update_vectors(self, spec: CollectionSpec, points: list[Point], filter: Filter | None) -> None:
        existing = {id_out(r.id) for r in await self._client.retrieve(spec.name, [p.id for p in points], with_payload=False)}
        vectors = [models.PointVectors(id=p.id, vector={n: _vector_in(v) for n, v in p.vectors.items()})
                   for p in points if p.id in existing]
        if vectors:
            await self._client.update_vectors(spec.name, vectors, update_filter=_filter_in(filter), wait=True)

    async def _search(
        self, spec: CollectionSpec, using: str, vector: VectorValue, limit: int,
        filter: Filter | None, score_threshold: float | None, with_vectors: bool,
    ) -> list[Hit]:
        response = await self._client.query_points(
            spec.name,
            query=_vector_in(vector),
            using=using,
            query_filter=_filter_in(filter),
            limit=limit,
            with_payload=True,
            with_vectors=with_vectors,
            score_threshold=score_threshold,
        )
        return [Hit(id_out(p.id), p.payload or {}, _vectors_out(p.vector), score=p.score) for p in response.points]

    async def _get(self, spec: CollectionSpec, ids: list[PointId], with_vectors: bool) -> list[Record]:
        found = await self._client.retrieve(spec.name, ids, with_payload=True, with_vectors=with_vectors)
        return [_record_out(r) for r in found]

    async def _delete(self, spec: CollectionSpec, ids: list[PointId]) -> None:
        await self._client.delete(spec.name, points_selector=models.PointIdsList(points=ids), wait=True)

    async def _delete_where(self, spec: CollectionSpec, filter: Filter) -> None:
        selector = models.FilterSelector(filter=_filter_in(filter))
        await self._client.delete(spec.name, points_selector=selector, wait=True)

    async def _count(self, spec: CollectionSpec, filter: Filter | None) -> int:
        return (await self._client.count(spec.name, count_filter=_filter_in(filter), exact=True)).count

    async def _scroll(
        self, spec: CollectionSpec, filter: Filter | None, limit: int, offset: PointId | None,
        order_by: str | None, descending: bool, with_vectors: bool,
    ) -> tuple[list[Record], PointId | None]:
        direction = models.Direction.DESC if descending else models.Direction.ASC
        records, next_offset = await self._client.scroll(
            spec.name,
            scroll_filter=_filter_in(filter),
            limit=limit,
            offset=offset,
            order_by=models.OrderBy(key=order_by, direction=direction) if order_by else None,
            with_payload=True,
            with_vectors=with_vectors,
        )
        following = None if order_by or next_offset is None else id_out(next_offset)
        return [_record_out(r) for r in records], following

    async def _optimize(self, spec: CollectionSpec) -> None:
        """A server optimises in the background by itself; nothing to do."""


def _spec_from_info(name: str, info: models.CollectionInfo) -> CollectionSpec:
    """The spec of a collection made outside Lumina, read from the server's own description."""
    vectors = info.config.params.vectors
    named = vectors if isinstance(vectors, Mapping) else {"": vectors} if vectors else {}
    kinds = {v.value: k for k, v in _INDEXES.items() if isinstance(v, models.PayloadSchemaType)}
    return CollectionSpec.from_dict({
        "name": name,
        "vectors": {n: {"size": v.size, "distance": v.distance.value.lower()} for n, v in named.items()},
        "sparse_vectors": list(info.config.params.sparse_vectors or {}),
        "indexes": {k: kinds.get(str(v.data_type.value), "keyword") for k, v in (info.payload_schema or {}).items()},
    })


def _vector_in(value: VectorValue) -> Any:
    if isinstance(value, SparseVector):
        return models.SparseVector(indices=list(value.indices), values=list(value.values))
    return [float(x) for x in value]


def _vectors_out(vector: Any) -> dict[str, VectorValue]:
    if not isinstance(vector, dict):
        return {}
    return {
        name: SparseVector(tuple(v.indices), tuple(v.values)) if isinstance(v, models.SparseVector) else list(v)
        for name, v in vector.items()
    }


def _record_out(record: models.Record) -> Record:
    return Record(id_out(record.id), record.payload or {}, _vectors_out(record.vector))


def _filter_in(filter: Filter | None) -> models.Filter | None:
    if filter is None:
        return None
    return models.Filter(
        must=[_condition_in(c) for c in filter.must] or None,
        should=[_condition_in(c) for c in filter.should] or None,
        must_not=[_condition_in(c) for c in filter.must_not] or None,
    )


def _condition_in(condition: Condition) -> Any:
    if isinstance(condition, Match):
        return models.FieldCondition(key=condition.key, match=models.MatchValue(value=condition.value))
    if isinstance(condition, MatchAny):
        return models.FieldCondition(key=condition.key, match=models.MatchAny(any=list(condition.values)))
    if isinstance(condition, Range):
        bounds = models.Range(gte=condition.gte, gt=condition.gt, lte=condition.lte, lt=condition.lt)
        return models.FieldCondition(key=condition.key, range=bounds)
    if isinstance(condition, HasId):
        return models.HasIdCondition(has_id=list(condition.ids))
    if isinstance(condition, HasVector):
        return models.HasVectorCondition(has_vector=condition.name)
    return _filter_in(condition)
