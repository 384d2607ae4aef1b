"""The ``vectors`` service interface: what every backend offers, and the checks they share.

Backends implement the ``_``-prefixed primitives; the public methods check names, ids and
vector sizes first, so a caller gets the same clear 4xx whichever backend is configured.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from lumina_core.errors import Conflict, NotFound, ValidationFailed
from lumina_core.services.vectors.model import (
    CollectionSpec,
    Filter,
    Hit,
    Point,
    PointId,
    Record,
    SparseVector,
    VectorValue,
    check_collection_name,
    check_point_id,
)

MAX_LIMIT = 10_000


class VectorStore(abc.ABC):
    """Collections of points with named vectors and filterable payloads."""

    #: ``qdrant-edge`` (embedded, under the data folder) or ``qdrant`` (server through qdrant-client).
    backend: str = ""

    def __init__(self) -> None:
        self._specs: dict[str, CollectionSpec] = {}

    # --- collections -----------------------------------------------------------------------

    async def create_collection(self, spec: CollectionSpec) -> CollectionSpec:
        """Create ``spec`` or, when it exists with the same vectors, add any missing indexes."""
        existing = await self._read_spec(spec.name)
        if existing is None:
            await self._create(spec)
            self._specs[spec.name] = spec
            return spec
        if dict(existing.vectors) != dict(spec.vectors) or set(existing.sparse_vectors) != set(spec.sparse_vectors):
            raise Conflict(
                f"collection '{spec.name}' exists with vectors {existing.to_dict()['vectors']}, "
                f"not {spec.to_dict()['vectors']}: drop it (or rebuild) to change its vectors"
            )
        missing = {k: v for k, v in spec.indexes.items() if k not in existing.indexes}
        if missing:
            await self._add_indexes(spec.name, missing)
        merged = CollectionSpec(spec.name, existing.vectors, existing.sparse_vectors, {**existing.indexes, **missing})
        self._specs[spec.name] = merged
        return merged

    async def drop_collection(self, name: str) -> None:
        """Delete a collection and all its points; dropping a missing one does nothing."""
        check_collection_name(name)
        self._specs.pop(name, None)
        await self._drop(name)

    async def collection(self, name: str) -> CollectionSpec:
        check_collection_name(name)
        spec = self._specs.get(name) or await self._read_spec(name)
        if spec is None:
            raise NotFound(f"no vector collection named '{name}': create it first (create_collection)")
        self._specs[name] = spec
        return spec

    async def collections(self) -> list[CollectionSpec]:
        return [await self.collection(name) for name in sorted(await self._names())]

    # --- points ----------------------------------------------------------------------------

    async def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert points, replacing those with the same id."""
        spec = await self.collection(collection)
        checked = [_checked_point(spec, p) for p in points]
        if checked:
            await self._upsert(spec, checked)

    async def update_vectors(self, collection: str, points: Sequence[Point], *, filter: Filter | None = None) -> None:
        """Set the given vectors of stored points, keeping their others and their payload.

        Only points that still exist and match ``filter`` change: a writer that computed a
        vector from a point's payload can say "only if the payload is still what I read".
        """
        spec = await self.collection(collection)
        checked = [_checked_point(spec, p) for p in points]
        if checked:
            await self._update_vectors(spec, checked, filter)

    async def search(
        self,
        collection: str,
        vector: VectorValue,
        *,
        using: str | None = None,
        limit: int = 10,
        filter: Filter | None = None,
        score_threshold: float | None = None,
        with_vectors: bool = False,
    ) -> list[Hit]:
        """The ``limit`` points closest to ``vector`` among those matching ``filter``."""
        spec = await self.collection(collection)
        name = _vector_name(spec, using)
        _check_vector(spec, name, vector)
        return await self._search(spec, name, vector, _checked_limit(limit), filter, score_threshold, with_vectors)

    async def get(self, collection: str, ids: Sequence[PointId], *, with_vectors: bool = False) -> list[Record]:
        """The stored points among ``ids`` (missing ones are left out)."""
        spec = await self.collection(collection)
        checked = [check_point_id(i) for i in ids]
        return await self._get(spec, checked, with_vectors) if checked else []

    async def delete(self, collection: str, ids: Sequence[PointId]) -> None:
        spec = await self.collection(collection)
        checked = [check_point_id(i) for i in ids]
        if checked:
            await self._delete(spec, checked)

    async def delete_where(self, collection: str, filter: Filter) -> None:
        """Delete every point matching ``filter`` (an empty filter is refused, use drop_collection)."""
        if not (filter.must or filter.should or filter.must_not):
            raise ValidationFailed("delete_where needs a non-empty filter; use drop_collection to empty a collection")
        await self._delete_where(await self.collection(collection), filter)

    async def count(self, collection: str, filter: Filter | None = None) -> int:
        return await self._count(await self.collection(collection), filter)

    async def scroll(
        self,
        collection: str,
        *,
        filter: Filter | None = None,
        limit: int = 100,
        offset: PointId | None = None,
        order_by: str | None = None,
        descending: bool = False,
        with_vectors: bool = False,
    ) -> tuple[list[Record], PointId | None]:
        """A page of points and the offset of the next page (None at the end).

        With ``order_by`` (an indexed numeric field) the points come sorted by it and there is
        no next page: narrow the filter instead (``Range`` on the same field).
        """
        spec = await self.collection(collection)
        if order_by is not None and order_by not in spec.indexes:
            raise ValidationFailed(f"order_by '{order_by}' needs a payload index on it in '{collection}'", field="order_by")
        start = check_point_id(offset) if offset is not None and order_by is None else None
        return await self._scroll(spec, filter, _checked_limit(limit), start, order_by, descending, with_vectors)

    async def optimize(self, collection: str) -> None:
        """Build search indexes now (the embedded store does it on request; a server by itself)."""
        await self._optimize(await self.collection(collection))

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush and release files or connections."""

    # --- backend primitives ------------------------------------------------------------------

    @abc.abstractmethod
    async def _read_spec(self, name: str) -> CollectionSpec | None: ...

    @abc.abstractmethod
    async def _names(self) -> list[str]: ...

    @abc.abstractmethod
    async def _create(self, spec: CollectionSpec) -> None: ...

    @abc.abstractmethod
    async def _add_indexes(self, name: str, indexes: Mapping[str, str]) -> None: ...

    @abc.abstractmethod
    async def _drop(self, name: str) -> None: ...

    @abc.abstractmethod
    async def _upsert(self, spec: CollectionSpec, points: list[Point]) -> None: ...

    @abc.abstractmethod
    async def _update_vectors(self, spec: CollectionSpec, points: list[Point], filter: Filter | None) -> None: ...

    @abc.abstractmethod
    async def _search(
        self, spec: CollectionSpec, using: str, vector: VectorValue, limit: int,
        filter: Filter | None, score_threshold: float | None, with_vectors: bool,
    ) -> list[Hit]: ...

    @abc.abstractmethod
    async def _get(self, spec: CollectionSpec, ids: list[PointId], with_vectors: bool) -> list[Record]: ...

    @abc.abstractmethod
    async def _delete(self, spec: CollectionSpec, ids: list[PointId]) -> None: ...

    @abc.abstractmethod
    async def _delete_where(self, spec: CollectionSpec, filter: Filter) -> None: ...

    @abc.abstractmethod
    async def _count(self, spec: CollectionSpec, filter: Filter | None) -> int: ...

    @abc.abstractmethod
    async def _scroll(
        self, spec: CollectionSpec, filter: Filter | None, limit: int, offset: PointId | None,
        order_by: str | None, descending: bool, with_vectors: bool,
    ) -> tuple[list[Record], PointId | None]: ...

    @abc.abstractmethod
    async def _optimize(self, spec: CollectionSpec) -> None: ...

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend}


def _vector_name(spec: CollectionSpec, using: str | None) -> str:
    names = [*spec.vectors, *spec.sparse_vectors]
    if using is None:
        if len(names) == 1:
            return names[0]
        raise ValidationFailed(f"collection '{spec.name}' has vectors {names}: say which with using=", field="using")
    if using not in names:
        raise ValidationFailed(f"collection '{spec.name}' has no vector '{using}' (it has {names})", field="using")
    return using


def _check_vector(spec: CollectionSpec, name: str, value: VectorValue) -> None:
    if name in spec.sparse_vectors:
        if not isinstance(value, SparseVector) or len(value.indices) != len(value.values):
            raise ValidationFailed(f"vector '{name}' of '{spec.name}' is sparse: give a SparseVector", field=name)
        return
    size = spec.vectors[name].size
    if isinstance(value, SparseVector) or len(value) != size:
        got = "a sparse vector" if isinstance(value, SparseVector) else f"{len(value)} numbers"
        raise ValidationFailed(f"vector '{name}' of '{spec.name}' has {size} dimensions, got {got}", field=name)


def _checked_point(spec: CollectionSpec, point: Point) -> Point:
    for name, value in point.vectors.items():
        _check_vector(spec, _vector_name(spec, name), value)
    if not point.vectors:
        names = [*spec.vectors, *spec.sparse_vectors]
        raise ValidationFailed(f"point {point.id!r} has none of the vectors {names} of '{spec.name}'", field="vectors")
    return Point(check_point_id(point.id), point.vectors, dict(point.payload))


def _checked_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}, got {limit}", field="limit")
    return limit
