"""The ``vectors`` service: one interface, two backends, chosen by configuration.

``QDRANT_URL`` unset: Qdrant Edge, embedded, under ``<data>/vectors``. Set: a Qdrant server
through qdrant-client. Both store the same data model (:mod:`.model`), so
``lumina vectors migrate`` can move a deployment from one to the other.
"""

from __future__ import annotations

from lumina_core.services.vectors.model import (
    CollectionSpec,
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
    VectorSpec,
    where,
)
from lumina_core.services.vectors.store import VectorStore
from lumina_core.settings import Settings

__all__ = [
    "CollectionSpec", "Filter", "HasId", "HasVector", "Hit", "Match", "MatchAny", "Point", "PointId", "Range",
    "Record", "SparseVector", "VectorSpec", "VectorStore", "edge_store", "open_vector_store", "where",
]


def edge_store(settings: Settings) -> VectorStore:
    """The embedded store under the data folder."""
    from lumina_core.services.vectors.edge import EdgeVectorStore

    return EdgeVectorStore(settings.data_dir / "vectors")


def server_store(url: str, api_key: str | None = None) -> VectorStore:
    from lumina_core.services.vectors.server import QdrantServerStore

    return QdrantServerStore(url=url, api_key=api_key)


def open_vector_store(settings: Settings) -> VectorStore:
    """The store the settings choose: a Qdrant server when ``QDRANT_URL`` is set, else embedded."""
    if settings.qdrant_url:
        return server_store(settings.qdrant_url, settings.qdrant_api_key)
    return edge_store(settings)
