"""Moving a deployment between the embedded store and a Qdrant server loses nothing."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from lumina_cli.main import cli
from lumina_core.errors import Conflict
from lumina_core.services.vectors import CollectionSpec, Point, VectorSpec, where
from lumina_core.services.vectors.edge import EdgeVectorStore
from lumina_core.services.vectors.migrate import migrate
from lumina_core.services.vectors.server import QdrantServerStore

SPEC = CollectionSpec("memories", {"text": VectorSpec(3)}, indexes={"user_id": "tenant", "ts": "float"})


async def test_edge_to_server_and_back_keeps_specs_ids_vectors_and_payloads(tmp_path: Path) -> None:
    edge, server, back = (
        EdgeVectorStore(tmp_path / "edge"),
        QdrantServerStore(path=str(tmp_path / "server")),
        EdgeVectorStore(tmp_path / "edge-again"),
    )
    try:
        await edge.create_collection(SPEC)
        points = [Point(str(uuid.uuid4()), {"text": [1, n, 0]}, {"user_id": f"u{n % 3}", "ts": float(n)}) for n in range(600)]
        await edge.upsert("memories", points)
        report = await migrate(edge, server)
        assert report.copied == {"memories": 600}
        await migrate(server, back)
        assert await back.collections() == [SPEC]
        assert await back.count("memories", where(user_id="u1")) == 200
        query = [0.3, 0.7, 0.1]
        before = [(h.id, round(h.score, 5)) for h in await edge.search("memories", query, limit=5)]
        after = [(h.id, round(h.score, 5)) for h in await back.search("memories", query, limit=5)]
        assert after == before
    finally:
        for store in (edge, server, back):
            await store.close()


async def test_migrating_into_a_store_that_has_data_needs_replace(tmp_path: Path) -> None:
    source, target = EdgeVectorStore(tmp_path / "a"), EdgeVectorStore(tmp_path / "b")
    try:
        for store in (source, target):
            await store.create_collection(SPEC)
            await store.upsert("memories", [Point(1, {"text": [1, 0, 0]}, {"user_id": "x"})])
        with pytest.raises(Conflict, match="--replace"):
            await migrate(source, target)
        assert (await migrate(source, target, replace=True)).total == 1
    finally:
        await source.close()
        await target.close()


def test_cli_migrate_without_a_server_says_how_to_name_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["vectors", "migrate", "--to", "server"], env={"LUMINA_DATA_DIR": str(tmp_path), "QDRANT_URL": ""}
    )
    assert result.exit_code == 1
    assert "pass --url or set QDRANT_URL" in result.output


def test_cli_info_lists_collections_with_counts(tmp_path: Path) -> None:
    async def fill() -> None:
        store = EdgeVectorStore(tmp_path / "vectors")
        await store.create_collection(SPEC)
        await store.upsert("memories", [Point(1, {"text": [1, 0, 0]}, {"user_id": "x"})])
        await store.close()

    asyncio.run(fill())
    result = CliRunner().invoke(cli, ["vectors", "info", "--json"], env={"LUMINA_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert '"points": 1' in result.output and '"backend": "qdrant-edge"' in result.output
