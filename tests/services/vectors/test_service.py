"""The host offers the ``vectors`` service to plugins, guarded by their permissions."""

from __future__ import annotations

from lumina_core.testing import HostFactory


async def test_host_offers_the_embedded_store_under_the_data_folder(lumina_host: HostFactory, lumina_data_dir) -> None:
    async with lumina_host(plugins=[]) as host:
        store = host.kernel.services.get("vectors")
        assert store.backend == "qdrant-edge"
        assert store.folder == lumina_data_dir / "vectors"
        health = (await host.client.get("/health")).json()
        assert {"name": "vectors", "status": "ok"}.items() <= next(c for c in health["checks"] if c["name"] == "vectors").items()


async def test_qdrant_url_selects_the_server_backend(lumina_host: HostFactory) -> None:
    async with lumina_host(plugins=[], qdrant_url="http://127.0.0.1:1") as host:
        assert host.kernel.services.get("vectors").backend == "qdrant"
