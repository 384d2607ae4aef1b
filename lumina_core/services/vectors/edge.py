"""Embedded backend: Qdrant Edge, an in-process Qdrant shard per collection under the data folder.

Layout: ``<folder>/<collection>/`` is the shard, ``<folder>/<collection>.json`` the collection
spec (so indexes and vector names survive restarts exactly as declared). Shard calls are
blocking, so they run in a worker thread and never stall the event loop.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import qdrant_edge as qe

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

T = TypeVar("T")

_DISTANCES = {"cosine": qe.Distance.Cosine, "dot": qe.Distance.Dot, "euclid": qe.Distance.Euclid}
_INDEXES: dict[str, Callable[[], Any]] = {
    "keyword": lambda: qe.PayloadSchemaType.Keyword,
    "tenant": lambda: qe.KeywordIndexParams(is_tenant=True),
    "integer": lambda: qe.PayloadSchemaType.Integer,
    "float": lambda: qe.PayloadSchemaType.Float,
    "bool": lambda: qe.PayloadSchemaType.Bool,
    "text": lambda: qe.PayloadSchemaType.Text,
    "datetime": lambda: qe.PayloadSchemaType.Datetime,
}


class EdgeVectorStore(VectorStore):
    """Vectors in files under ``folder``; nothing to run besides the host."""

    backend = "qdrant-edge"

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._shards: dict[str, qe.EdgeShard] = {}
        self._lock = asyncio.Lock()

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "path": str(self.folder)}

    async def close(self) -> None:
        async with self._lock:
            shards, self._shards = self._shards, {}
            for shard in shards.values():
                await asyncio.to_thread(_flush_and_close, shard)

    # --- collections -----------------------------------------------------------------------

    async def _read_spec(self, name: str) -> CollectionSpec | None:
        path = self._spec_path(name)
        if not path.is_file():
            return None
        return CollectionSpec.from_dict(json.loads(path.read_text(encoding="utf-8")))

    async def _names(self) -> list[str]:
        return [p.stem for p in self.folder.glob("*.json") if (self.folder / p.stem).is_dir()]

    async def _create(self, spec: CollectionSpec) -> None:
        config = qe.EdgeConfig(
            vectors={n: qe.EdgeVectorParams(size=v.size, distance=_DISTANCES[v.distance]) for n, v in spec.vectors.items()},
            sparse_vectors={n: qe.EdgeSparseVectorParams() for n in spec.sparse_vectors} or None,
        )
        async with self._lock:
            shard_dir = self.folder / spec.name
            if shard_dir.exists():  # a crash between creating the shard and writing its spec
                shutil.rmtree(shard_dir)
            shard = await asyncio.to_thread(qe.EdgeShard.create, str(shard_dir), config)
            for field_name, kind in spec.indexes.items():
                await asyncio.to_thread(shard.update, _index_operation(field_name, kind))
            self._shards[spec.name] = shard
            self._spec_path(spec.name).write_text(json.dumps(spec.to_dict(), indent=2), encoding="utf-8")

    async def _add_indexes(self, name: str, indexes: Mapping[str, str]) -> None:
        shard = await self._shard(name)
        for field_name, kind in indexes.items():
            await asyncio.to_thread(shard.update, _index_operation(field_name, kind))
        spec = await self._read_spec(name)
        assert spec is not None
        merged = CollectionSpec(name, spec.vectors, spec.sparse_vectors, {**spec.indexes, **indexes})
        self._spec_path(name).write_text(json.dumps(merged.to_dict(), indent=2), encoding="utf-8")

    async def _drop(self, name: str) -> None:
        async with self._lock:
            shard = self._shards.pop(name, None)
            if shard is not None:
                await asyncio.to_thread(shard.close)
            self._spec_path(name).unlink(missing_ok=True)
            shutil.rmtree(self.folder / name, ignore_errors=True)

    # --- points ----------------------------------------------------------------------------

    async def _upsert(self, spec: CollectionSpec, points: list[Point]) -> None:
        operation = qe.UpdateOperation.upsert_points(
            [qe.Point(p.id, {n: _vector_in(v) for n, v in p.vectors.items()}, dict(p.payload)) for p in points]
        )
        await self._run(spec.name, lambda shard: shard.update(operation))

    async def _update_vectors(self, spec: CollectionSpec, points: list[Point], filter: Filter | None) -> None:
        def update(shard: qe.EdgeShard) -> None:
            existing = {id_out(r.id) for r in shard.retrieve([p.id for p in points], with_payload=False, with_vector=False)}
            vectors = [qe.PointVectors(p.id, {n: _vector_in(v) for n, v in p.vectors.items()})
                       for p in points if p.id in existing]
            if vectors:
                shard.update(qe.UpdateOperation.update_vectors(vectors, _filter_in(filter)))

        await self._run(spec.name, update)

    async def _search(
        self, spec: CollectionSpec, using: str, vector: VectorValue, limit: int,
        filter: Filter | None, score_threshold: float | None, with_vectors: bool,
    ) -> list[Hit]:
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(_vector_in(vector), using=using),
            filter=_filter_in(filter),
            with_payload=True,
            with_vector=with_vectors,
            score_threshold=score_threshold,
        )
        found = await self._run(spec.name, lambda shard: shard.query(request))
        return [Hit(id_out(p.id), p.payload or {}, _vectors_out(p.vector), score=p.score) for p in found]

    async def _get(self, spec: CollectionSpec, ids: list[PointId], with_vectors: bool) -> list[Record]:
        found = await self._run(spec.name, lambda shard: shard.retrieve(ids, with_payload=True, with_vector=with_vectors))
        return [_record_out(r) for r in found]

    async def _delete(self, spec: CollectionSpec, ids: list[PointId]) -> None:
        operation = qe.UpdateOperation.delete_points(ids)
        await self._run(spec.name, lambda shard: shard.update(operation))

    async def _delete_where(self, spec: CollectionSpec, filter: Filter) -> None:
        operation = qe.UpdateOperation.delete_points_by_filter(_filter_in(filter))
        await self._run(spec.name, lambda shard: shard.update(operation))

    async def _count(self, spec: CollectionSpec, filter: Filter | None) -> int:
        request = qe.CountRequest(exact=True, filter=_filter_in(filter))
        return await self._run(spec.name, lambda shard: shard.count(request))

    async def _scroll(
        self, spec: CollectionSpec, filter: Filter | None, limit: int, offset: PointId | None,
        order_by: str | None, descending: bool, with_vectors: bool,
    ) -> tuple[list[Record], PointId | None]:
        direction = qe.Direction.Desc if descending else qe.Direction.Asc
        request = qe.ScrollRequest(
            offset=offset,
            limit=limit,
            filter=_filter_in(filter),
            with_payload=True,
            with_vector=with_vectors,
            order_by=qe.OrderBy(order_by, direction=direction) if order_by else None,
        )
        records, next_offset = await self._run(spec.name, lambda shard: shard.scroll(request))
        following = None if order_by or next_offset is None else id_out(next_offset)
        return [_record_out(r) for r in records], following

    async def _optimize(self, spec: CollectionSpec) -> None:
        await self._run(spec.name, lambda shard: shard.optimize())

    # --- helpers -----------------------------------------------------------------------------

    def _spec_path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    async def _shard(self, name: str) -> qe.EdgeShard:
        shard = self._shards.get(name)
        if shard is None:
            async with self._lock:
                shard = self._shards.get(name)
                if shard is None:
                    shard = await asyncio.to_thread(qe.EdgeShard.load, str(self.folder / name))
                    self._shards[name] = shard
        return shard

    async def _run(self, name: str, call: Callable[[qe.EdgeShard], T]) -> T:
        shard = await self._shard(name)
        return await asyncio.to_thread(call, shard)


def _flush_and_close(shard: qe.EdgeShard) -> None:
    shard.flush()
    shard.close()


def _index_operation(field_name: str, kind: str) -> qe.UpdateOperation:
    return qe.UpdateOperation.create_field_index(field_name, _INDEXES[kind]())


def _vector_in(value: VectorValue) -> Any:
    if isinstance(value, SparseVector):
        return qe.SparseVector(list(value.indices), list(value.values))
    return [float(x) for x in value]


def _vectors_out(vector: Any) -> dict[str, VectorValue]:
    if not isinstance(vector, dict):
        return {}
    return {
        name: SparseVector(tuple(v.indices), tuple(v.values)) if isinstance(v, qe.SparseVector) else list(v)
        for name, v in vector.items()
    }


def _record_out(record: qe.Record) -> Record:
    return Record(id_out(record.id), record.payload or {}, _vectors_out(record.vector))


def _filter_in(filter: Filter | None) -> qe.Filter | None:
    if filter is None:
        return None
    return qe.Filter(
        must=[_condition_in(c) for c in filter.must] or None,
        should=[_condition_in(c) for c in filter.should] or None,
        must_not=[_condition_in(c) for c in filter.must_not] or None,
    )


def _condition_in(condition: Condition) -> Any:
    if isinstance(condition, Match):
        return qe.FieldCondition(condition.key, match=qe.MatchValue(condition.value))
    if isinstance(condition, MatchAny):
        return qe.FieldCondition(condition.key, match=qe.MatchAny(list(condition.values)))
    if isinstance(condition, Range):
        bounds = qe.RangeFloat(gte=condition.gte, gt=condition.gt, lte=condition.lte, lt=condition.lt)
        return qe.FieldCondition(condition.key, range=bounds)
    if isinstance(condition, HasId):
        return qe.HasIdCondition(set(condition.ids))
    if isinstance(condition, HasVector):
        return qe.HasVectorCondition(condition.name)
    return _filter_in(condition)
