"""The vector store contract: every test runs on every backend, on real files or a real socket.

``edge`` is Qdrant Edge under a temporary data folder; ``server`` is the qdrant-client backend
in qdrant-client's local mode, which takes the same calls; ``http`` is the same backend talking
Qdrant's REST protocol to ``ops/qdrant_server.py`` (no Qdrant server can run here), so the
protocol the backend speaks to a real server is exercised too.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from lumina_core.errors import Conflict, NotFound, ValidationFailed
from lumina_core.services.vectors import (
    CollectionSpec,
    Filter,
    HasId,
    HasVector,
    Match,
    MatchAny,
    Point,
    Range,
    SparseVector,
    VectorSpec,
    VectorStore,
    where,
)
from lumina_core.services.vectors.edge import EdgeVectorStore
from lumina_core.services.vectors.server import QdrantServerStore
from ops.qdrant_server import QdrantServer

SPEC = CollectionSpec(
    "notes",
    vectors={"text": VectorSpec(size=4)},
    indexes={"user_id": "tenant", "ts": "float", "tag": "keyword"},
)


@pytest.fixture
def qdrant() -> Iterator[QdrantServer]:
    with QdrantServer() as server:
        yield server


def open_backend(kind: str, folder: Path, qdrant: QdrantServer | None = None) -> VectorStore:
    if kind == "edge":
        return EdgeVectorStore(folder / "edge")
    if kind == "http":
        assert qdrant is not None
        return QdrantServerStore(url=qdrant.url)
    return QdrantServerStore(path=str(folder / "local"))


@pytest.fixture(params=["edge", "server", "http"])
async def store(request: pytest.FixtureRequest, tmp_path: Path, qdrant: QdrantServer) -> AsyncIterator[VectorStore]:
    opened = open_backend(request.param, tmp_path, qdrant)
    await opened.create_collection(SPEC)
    yield opened
    await opened.close()


def pid(n: int) -> str:
    return str(uuid.UUID(int=n + 1))


def note(n: int, user: str, vector: list[float], **payload: object) -> Point:
    return Point(pid(n), {"text": vector}, {"user_id": user, "ts": float(n), **payload})


async def test_search_returns_the_closest_points_first_with_their_payload(store: VectorStore) -> None:
    await store.upsert("notes", [
        note(0, "a", [1, 0, 0, 0], tag="x"),
        note(1, "a", [0, 1, 0, 0], tag="y"),
        note(2, "a", [0.9, 0.1, 0, 0], tag="z"),
    ])
    hits = await store.search("notes", [1, 0, 0, 0], limit=2)
    assert [h.id for h in hits] == [pid(0), pid(2)]
    assert hits[0].payload["tag"] == "x"
    assert hits[0].score > hits[1].score


async def test_filters_keep_one_user_and_a_time_window(store: VectorStore) -> None:
    await store.upsert("notes", [note(n, "a" if n % 2 else "b", [1, 0, 0, n / 10]) for n in range(10)])
    window = Filter(must=(Match("user_id", "a"), Range("ts", gte=3, lt=8)))
    hits = await store.search("notes", [1, 0, 0, 0], limit=10, filter=window)
    assert sorted(h.id for h in hits) == [pid(3), pid(5), pid(7)]
    assert await store.count("notes", window) == 3
    assert await store.count("notes", Filter(must_not=(Match("user_id", "a"),))) == 5
    assert await store.count("notes", Filter(must=(MatchAny("user_id", ("a", "b")),))) == 10
    assert await store.count("notes", Filter(must=(HasId((pid(1), pid(2))),))) == 2


async def test_upsert_replaces_a_point_with_the_same_id(store: VectorStore) -> None:
    await store.upsert("notes", [note(0, "a", [1, 0, 0, 0], tag="old")])
    await store.upsert("notes", [note(0, "a", [0, 1, 0, 0], tag="new")])
    [record] = await store.get("notes", [pid(0)], with_vectors=True)
    assert record.payload["tag"] == "new"
    assert record.vectors["text"] == pytest.approx([0, 1, 0, 0])
    assert await store.count("notes") == 1


async def test_get_leaves_out_missing_ids(store: VectorStore) -> None:
    await store.upsert("notes", [note(0, "a", [1, 0, 0, 0])])
    assert [r.id for r in await store.get("notes", [pid(0), pid(99)])] == [pid(0)]


async def test_delete_by_id_and_by_filter(store: VectorStore) -> None:
    await store.upsert("notes", [note(n, "a" if n < 3 else "b", [1, 0, 0, 0]) for n in range(5)])
    await store.delete("notes", [pid(0)])
    await store.delete_where("notes", where(user_id="b"))
    assert sorted(r.id for r in (await store.scroll("notes"))[0]) == [pid(1), pid(2)]


async def test_scroll_pages_through_everything_and_orders_by_a_numeric_field(store: VectorStore) -> None:
    await store.upsert("notes", [note(n, "a", [1, 0, 0, 0]) for n in range(7)])
    seen, offset = [], None
    while True:
        page, offset = await store.scroll("notes", limit=3, offset=offset)
        seen += [r.id for r in page]
        if offset is None:
            break
    assert sorted(seen) == sorted(pid(n) for n in range(7))
    newest, following = await store.scroll("notes", limit=2, order_by="ts", descending=True)
    assert [r.id for r in newest] == [pid(6), pid(5)]
    assert following is None


async def test_integer_ids_and_uuid_ids_read_back_as_given(store: VectorStore) -> None:
    await store.upsert("notes", [Point(7, {"text": [1, 0, 0, 0]}, {"user_id": "a"})])
    await store.upsert("notes", [Point(pid(1).upper(), {"text": [0, 1, 0, 0]}, {"user_id": "a"})])
    assert sorted(map(str, (r.id for r in (await store.scroll("notes"))[0]))) == sorted(["7", pid(1)])


@pytest.mark.parametrize("kind", ["edge", "server", "http"])
async def test_a_point_may_lack_a_vector_until_update_vectors_gives_it_one(
        tmp_path: Path, kind: str, qdrant: QdrantServer) -> None:
    store = open_backend(kind, tmp_path, qdrant)
    await store.create_collection(CollectionSpec("both", {"dense": VectorSpec(4)}, sparse_vectors=("words",)))
    words = SparseVector((1, 2), (1.0, 1.0))
    await store.upsert("both", [Point(pid(0), {"words": words}, {"text": "first"}),
                                Point(pid(1), {"words": words, "dense": [0, 1, 0, 0]}, {"text": "second"})])
    try:
        assert [h.id for h in await store.search("both", [1, 0, 0, 0], using="dense")] == [pid(1)]
        assert len(await store.search("both", words, using="words")) == 2
        assert await store.count("both", Filter(must_not=(HasVector("dense"),))) == 1

        stale = Filter(must=(Match("text", "an older text"),))
        await store.update_vectors("both", [Point(pid(0), {"dense": [1, 0, 0, 0]})], filter=stale)
        assert await store.count("both", Filter(must_not=(HasVector("dense"),))) == 1

        current = Filter(must=(Match("text", "first"),))
        gone = Point(pid(9), {"dense": [1, 0, 0, 0]})  # never stored, or deleted since: skipped
        await store.update_vectors("both", [Point(pid(0), {"dense": [1, 0, 0, 0]}), gone], filter=current)
        assert [h.id for h in await store.search("both", [1, 0, 0, 0], using="dense")] == [pid(0), pid(1)]
        (record,) = await store.get("both", [pid(0)], with_vectors=True)
        assert set(record.vectors) == {"dense", "words"} and record.payload == {"text": "first"}
        assert await store.get("both", [pid(9)]) == []
    finally:
        await store.close()


async def test_bad_input_is_refused_with_a_clear_message(store: VectorStore) -> None:
    with pytest.raises(ValidationFailed, match="4 dimensions, got 3"):
        await store.upsert("notes", [Point(pid(0), {"text": [1, 0, 0]})])
    with pytest.raises(ValidationFailed, match="UUID"):
        await store.upsert("notes", [Point("not-an-id", {"text": [1, 0, 0, 0]})])
    with pytest.raises(ValidationFailed, match="none of the vectors"):
        await store.upsert("notes", [Point(pid(0), {})])
    with pytest.raises(ValidationFailed, match="no vector 'image'"):
        await store.search("notes", [1, 0, 0, 0], using="image")
    with pytest.raises(NotFound, match="no vector collection named 'missing'"):
        await store.count("missing")
    with pytest.raises(ValidationFailed, match="non-empty filter"):
        await store.delete_where("notes", Filter())


async def test_create_collection_is_idempotent_and_refuses_other_vectors(store: VectorStore) -> None:
    await store.upsert("notes", [note(0, "a", [1, 0, 0, 0])])
    again = await store.create_collection(CollectionSpec("notes", {"text": VectorSpec(4)}, indexes={"brain_id": "keyword"}))
    assert set(again.indexes) == {"user_id", "ts", "tag", "brain_id"}
    assert await store.count("notes") == 1
    with pytest.raises(Conflict, match="drop it"):
        await store.create_collection(CollectionSpec("notes", {"text": VectorSpec(8)}))


async def test_drop_collection_removes_it(store: VectorStore) -> None:
    await store.drop_collection("notes")
    assert await store.collections() == []


@pytest.mark.parametrize("kind", ["edge", "server"])
async def test_points_and_specs_survive_a_restart(kind: str, tmp_path: Path) -> None:
    first = open_backend(kind, tmp_path)
    await first.create_collection(SPEC)
    await first.upsert("notes", [note(n, "a", [1, 0, 0, n]) for n in range(3)])
    await first.optimize("notes")
    await first.close()
    second = open_backend(kind, tmp_path)
    try:
        assert await second.collections() == [SPEC]
        assert await second.count("notes", where(user_id="a")) == 3
    finally:
        await second.close()
