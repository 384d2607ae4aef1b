"""The vector store's data model, shared by every backend so data can move between them.

A collection holds points; a point has an id (an unsigned integer or a UUID string), one or more
named vectors and a JSON payload. Payload fields listed in the collection's ``indexes`` can be
filtered on quickly. Filters are small frozen records that each backend translates to its own
calls, so callers never import a backend's types.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lumina_core.errors import ValidationFailed

Distance = Literal["cosine", "dot", "euclid"]
#: ``tenant`` is a keyword index the store may use to keep each value's points together
#: (user ids): filtered searches for one tenant stay fast among many.
IndexKind = Literal["keyword", "tenant", "integer", "float", "bool", "text", "datetime"]
PointId = int | str

_COLLECTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class VectorSpec:
    size: int
    distance: Distance = "cosine"


@dataclass(frozen=True)
class CollectionSpec:
    """What a collection stores: its named dense vectors, sparse vectors and payload indexes."""

    name: str
    vectors: Mapping[str, VectorSpec]
    sparse_vectors: tuple[str, ...] = ()
    indexes: Mapping[str, IndexKind] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_collection_name(self.name)
        if not self.vectors and not self.sparse_vectors:
            raise ValidationFailed(f"collection '{self.name}' needs at least one vector", field="vectors")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "vectors": {n: {"size": v.size, "distance": v.distance} for n, v in self.vectors.items()},
            "sparse_vectors": list(self.sparse_vectors),
            "indexes": dict(self.indexes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CollectionSpec:
        return cls(
            name=data["name"],
            vectors={n: VectorSpec(**v) for n, v in data.get("vectors", {}).items()},
            sparse_vectors=tuple(data.get("sparse_vectors", ())),
            indexes=dict(data.get("indexes", {})),
        )


@dataclass(frozen=True)
class SparseVector:
    indices: tuple[int, ...]
    values: tuple[float, ...]


VectorValue = Sequence[float] | SparseVector


@dataclass(frozen=True)
class Point:
    """A stored item. It carries at least one of its collection's vectors; one lacking a vector
    is simply not found by searches on that vector until :meth:`VectorStore.update_vectors`
    gives it one."""

    id: PointId
    vectors: Mapping[str, VectorValue]
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """A stored point as read back; ``vectors`` is empty unless asked for."""

    id: PointId
    payload: Mapping[str, Any]
    vectors: Mapping[str, VectorValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit(Record):
    """A search result: a record with its similarity score (higher is closer)."""

    score: float = 0.0


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """The payload field ``key`` equals ``value`` (or contains it, for a list field)."""

    key: str
    value: str | int | bool


@dataclass(frozen=True)
class MatchAny:
    key: str
    values: tuple[str, ...] | tuple[int, ...]


@dataclass(frozen=True)
class Range:
    key: str
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None


@dataclass(frozen=True)
class HasId:
    ids: tuple[PointId, ...]


@dataclass(frozen=True)
class HasVector:
    """The point carries the named vector (points may lack some of a collection's vectors)."""

    name: str


@dataclass(frozen=True)
class Filter:
    """All of ``must``, at least one of ``should`` (when given), none of ``must_not``."""

    must: tuple[Condition, ...] = ()
    should: tuple[Condition, ...] = ()
    must_not: tuple[Condition, ...] = ()


Condition = Match | MatchAny | Range | HasId | HasVector | Filter


def where(**equals: str | int | bool | None) -> Filter:
    """``where(user_id="a", brain_id="work")``: a filter of equalities; ``None`` values are skipped."""
    return Filter(must=tuple(Match(k, v) for k, v in equals.items() if v is not None))


def check_collection_name(name: str) -> str:
    if not _COLLECTION_NAME.match(name):
        raise ValidationFailed(
            f"collection name {name!r} is not valid: use lower-case letters, digits and '_', "
            f"starting with a letter (at most 63 characters)",
            field="collection",
        )
    return name


def check_point_id(point_id: PointId) -> PointId:
    """Ids are what both Qdrant backends accept: unsigned integers or UUID strings (normalised)."""
    if isinstance(point_id, int) and not isinstance(point_id, bool) and point_id >= 0:
        return point_id
    if isinstance(point_id, str):
        try:
            return str(uuid.UUID(point_id))
        except ValueError:
            pass
    raise ValidationFailed(
        f"point id {point_id!r} is not valid: use an unsigned integer or a UUID string "
        f"(uuid.uuid5 turns any text into one)",
        field="id",
    )


def id_out(point_id: Any) -> PointId:
    """A backend's id as this model's: ints stay ints, UUIDs become strings."""
    return point_id if isinstance(point_id, int) else str(point_id)
