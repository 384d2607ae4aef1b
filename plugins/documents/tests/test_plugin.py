"""The plugin as the host sees it: a valid manifest whose endpoints are exactly the routes it mounts."""

from __future__ import annotations

from pathlib import Path

import lumina_documents
from lumina_core.plugins.manifest import load_manifest

MANIFEST = Path(lumina_documents.__file__).parent / "manifest.yml"


def test_the_manifest_is_valid_and_asks_only_for_what_the_plugin_uses() -> None:
    manifest = load_manifest(MANIFEST)
    assert manifest.name == "documents"
    assert set(manifest.permissions) == {"service:knowledge", "tasks:submit", "tasks:handle", "chat:context",
                                         "read:chat_history", "events:publish"}


async def test_every_declared_endpoint_is_served(documents_host) -> None:
    declared = {(e.method, e.path) for e in load_manifest(MANIFEST).endpoints}
    async with documents_host() as host:
        paths = (await host.client.get("/openapi.json")).json()["paths"]
    served = {(method.upper(), path) for path, methods in paths.items() for method in methods
              if path.startswith(("/files", "/brains", "/ingest", "/query", "/documents"))}
    assert served == declared
